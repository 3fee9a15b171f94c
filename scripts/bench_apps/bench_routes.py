"""Routes module for scripts/bench_endpoint.py (load with ``--routes``).

Three endpoints that return the same small JSON object:

* ``/bench/ours-async``: an async ``@sa.route`` handler;
* ``/bench/ours-sync``: a sync ``@sa.route`` handler (run in a thread pool by streamlit-auth);
* ``/bench/raw``: the baseline, a raw handler of the server's own framework:

  - Streamlit 1.56 (Tornado): a plain ``tornado.web.RequestHandler`` mounted with
    ``sa.mount_tornado``;
  - Streamlit 1.67 (Starlette): a raw Starlette endpoint (a ``JSONResponse`` used as the
    ASGI app), mounted with ``sa.mount_asgi`` when our API has it. Without it (and
    ``sa.mount_tornado`` is not served on Starlette) this module mounts it itself, for the
    benchmark only: it wraps ``AuthFront.inner`` (Streamlit's Starlette app) in an ASGI
    function that serves the raw paths and passes everything else on. Either way the
    request crosses the same uvicorn and our ``AuthFront`` as ours does, then the raw app.

Diagnostic variants, used by ``bench_endpoint.py --diagnose`` to explain a gap between
the sync route and the raw handler:

* ``/bench/raw-executor``: the raw handler, but it computes the dict with
  ``loop.run_in_executor(None, ...)``, i.e. the same thread-pool hop a sync route takes;
* ``/bench/raw-async``: the raw handler with an ``async def get`` (coroutine overhead only).

and on Starlette (1.67) instead:

* ``/bench/raw-asgi``: a bare ASGI callable at the same place as ``/bench/raw`` that sends
  the pre-serialised JSON itself (no Starlette Request/Response objects): the floor.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import stauth_server as sa
from stauth_server.streamlit import internals

PAYLOAD: dict[str, Any] = {"ok": True, "n": 42, "msg": "hello"}


@sa.route("/bench/ours-async")
async def ours_async(request: sa.Request) -> dict[str, Any]:
    return PAYLOAD


@sa.route("/bench/ours-sync")
def ours_sync(request: sa.Request) -> dict[str, Any]:
    return PAYLOAD


def _payload() -> dict[str, Any]:
    return PAYLOAD


def _mount_tornado_baselines() -> None:
    import tornado.web

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


def _mount_starlette_baselines() -> None:
    """The raw baselines on Starlette: with ``sa.mount_asgi`` where our API has it, else
    (benchmark only) in front of Streamlit's Starlette app, behind our ``AuthFront``. Each
    answer names the way in its ``X-Bench-Mount`` header (bench_endpoint.py prints it)."""
    import json

    from starlette.responses import JSONResponse

    mount_asgi = getattr(sa, "mount_asgi", None)
    how = b"sa.mount_asgi" if mount_asgi is not None else b"AuthFront.inner wrapper (benchmark only)"

    async def raw(scope: dict[str, Any], receive: Any, send: Any) -> None:
        """A raw Starlette endpoint: a JSONResponse as the ASGI app."""
        response = JSONResponse(PAYLOAD)
        response.raw_headers.append((b"x-bench-mount", how))
        await response(scope, receive, send)

    body = json.dumps(PAYLOAD, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"x-bench-mount", how)]

    async def raw_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    raw_apps: dict[str, Any] = {"/bench/raw": raw, "/bench/raw-asgi": raw_asgi}
    if mount_asgi is not None:
        for prefix, app in raw_apps.items():
            mount_asgi(prefix, app)
        return

    from stauth_server.starlette import front

    original_init = front.AuthFront.__init__

    def init_with_raw(self: Any, inner: Any, server: Any) -> None:
        original_init(self, inner, server)
        streamlit_app = self.inner

        async def inner_with_raw(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                app = raw_apps.get(scope["path"])
                if app is not None:
                    await app(scope, receive, send)
                    return
            await streamlit_app(scope, receive, send)

        self.inner = inner_with_raw

    front.AuthFront.__init__ = init_with_raw  # type: ignore[method-assign]


def _force_tcp_nodelay() -> None:
    """Benchmark-only (``bench_endpoint.py`` on st167 unless ``--stock-nagle``): TCP_NODELAY on
    every accepted connection. Streamlit 1.67 binds its listening socket itself with
    ``socket.socket(family=...)`` (protocol number 0), so the accepted sockets have
    ``proto == 0`` and asyncio's ``_set_nodelay`` (which requires ``IPPROTO_TCP``) leaves
    Nagle on: a response written in two parts (headers, then body) waits for the client's
    delayed ACK, about 40 ms. This patch shows the throughput without that stall."""
    import asyncio.base_events
    import socket

    def set_nodelay(sock: socket.socket) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    asyncio.base_events._set_nodelay = set_nodelay  # type: ignore[attr-defined]


if os.environ.get("BENCH_TCP_NODELAY") == "1":
    _force_tcp_nodelay()

if internals.server_generation() == "starlette":
    _mount_starlette_baselines()
else:
    _mount_tornado_baselines()
