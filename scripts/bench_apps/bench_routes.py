"""Routes module for scripts/bench_endpoint.py (load with ``--routes``).

Three endpoints that return the same small JSON object:

* ``/bench/ours-async``: an async ``@sa.route`` handler;
* ``/bench/ours-sync``: a sync ``@sa.route`` handler (run in a thread pool by streamlit-auth);
* ``/bench/raw``: a plain ``tornado.web.RequestHandler`` mounted with ``sa.mount_tornado``.

Diagnostic variants, used by ``bench_endpoint.py --diagnose`` to explain a gap between
the sync route and the raw handler:

* ``/bench/raw-executor``: the raw handler, but it computes the dict with
  ``loop.run_in_executor(None, ...)``, i.e. the same thread-pool hop a sync route takes;
* ``/bench/raw-async``: the raw handler with an ``async def get`` (coroutine overhead only).
"""

from __future__ import annotations

import asyncio
from typing import Any

import tornado.web

import stauth_server as sa

PAYLOAD: dict[str, Any] = {"ok": True, "n": 42, "msg": "hello"}


@sa.route("/bench/ours-async")
async def ours_async(request: sa.Request) -> dict[str, Any]:
    return PAYLOAD


@sa.route("/bench/ours-sync")
def ours_sync(request: sa.Request) -> dict[str, Any]:
    return PAYLOAD


def _payload() -> dict[str, Any]:
    return PAYLOAD


class RawHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write(PAYLOAD)


class RawAsyncHandler(tornado.web.RequestHandler):
    async def get(self) -> None:
        self.write(PAYLOAD)


class RawExecutorHandler(tornado.web.RequestHandler):
    async def get(self) -> None:
        result = await asyncio.get_running_loop().run_in_executor(None, _payload)
        self.write(result)


sa.mount_tornado("/bench/raw", RawHandler)
sa.mount_tornado("/bench/raw-async", RawAsyncHandler)
sa.mount_tornado("/bench/raw-executor", RawExecutorHandler)
