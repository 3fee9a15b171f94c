"""Routes module for scripts/bench_endpoint.py (load with ``--routes``).

Three endpoints that return the same small JSON object:

* ``/bench/ours-async``: an async ``@sa.route`` handler;
* ``/bench/ours-sync``: a sync ``@sa.route`` handler (run in a thread pool by streamlit-auth);
* ``/bench/raw``: the baseline, a raw handler of the server's own framework:

  - Streamlit 1.56 (Tornado): a plain ``tornado.web.RequestHandler`` mounted with
    ``sa.mount_tornado``;
  - Streamlit 1.67 (Starlette): a raw Starlette route, as the issue names the baseline: a
    ``starlette.routing.Router`` with one ``Route("/", endpoint)`` whose endpoint returns a
    ``JSONResponse``, mounted with ``sa.mount_asgi("/bench/raw", ...)``. Mount semantics
    hand it the path after the prefix, so it answers at ``/bench/raw/`` (with the slash;
    bench_endpoint.py requests that). The request crosses the same uvicorn and our
    ``AuthFront`` as ours does, then Starlette's routing.

Diagnostic variants, used by ``bench_endpoint.py --diagnose`` to explain a gap between
the sync route and the raw handler:

* ``/bench/raw-executor``: the raw handler, but it computes the dict with
  ``loop.run_in_executor(None, ...)``, i.e. the same thread-pool hop a sync route takes;
* ``/bench/raw-async``: the raw handler with an ``async def get`` (coroutine overhead only).

and on Starlette (1.67) instead:

* ``/bench/raw-response``: lighter than a route: a ``JSONResponse`` used as the ASGI app (no
  Router, no Request object); the baseline of the earlier runs in docs/benchmarks.md;
* ``/bench/raw-asgi``: a bare ASGI callable that sends the pre-serialised JSON itself (no
  Starlette Request/Response objects): the floor.
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
    """The raw baselines on Starlette, mounted with ``sa.mount_asgi`` (behind our ``AuthFront``,
    as our routes are). Each answer names its kind in ``X-Bench-Mount`` (bench_endpoint.py prints it)."""
    import json

    from starlette.responses import JSONResponse

    how = b"sa.mount_asgi"

    from starlette.requests import Request
    from starlette.routing import Route, Router

    async def endpoint(request: Request) -> JSONResponse:
        response = JSONResponse(PAYLOAD)
        response.raw_headers.append((b"x-bench-mount", how + b" (Router + Route)"))
        return response

    # The baseline: a raw Starlette route (Router matching, Route's request/response wrapper, a
    # Request object, JSONResponse). Mount semantics give it the path after the prefix, so it
    # answers at /bench/raw/ (bench_endpoint.py requests that on Starlette).
    raw = Router(routes=[Route("/", endpoint)])

    async def raw_response(scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Lighter than a route: a JSONResponse used as the ASGI app (no Router, no Request)."""
        response = JSONResponse(PAYLOAD)
        response.raw_headers.append((b"x-bench-mount", how))
        await response(scope, receive, send)

    body = json.dumps(PAYLOAD, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"x-bench-mount", how)]

    async def raw_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    raw_apps: dict[str, Any] = {"/bench/raw": raw, "/bench/raw-response": raw_response,
                               "/bench/raw-asgi": raw_asgi}
    for prefix, app in raw_apps.items():
        sa.mount_asgi(prefix, app)


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
