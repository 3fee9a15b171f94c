#!/usr/bin/env python3
"""Diagnostic micro-benchmark: CPU cost per request of each bench endpoint, without sockets.

What is compared
    The handlers of scripts/bench_apps/bench_routes.py (``raw``, ``raw-async``,
    ``raw-executor``, ``ours-async``, ``ours-sync``), mounted with streamlit-auth's own
    ``build_handlers`` in a ``tornado.web.Application`` configured like Streamlit's
    (``compress_response``, XSRF cookies, cookie secret).

How
    Each request is a ``tornado.httputil.HTTPServerRequest`` on an in-memory connection
    that discards what is written; it goes through the Application's routing, the
    handler, ``finish()`` (Etag, transforms) exactly as on a real server, minus the
    socket and HTTP parsing. For each endpoint: ``--batch`` requests one after the other,
    ``--rounds`` times interleaved with the other endpoints; the best (lowest) batch gives
    microseconds of CPU (process time, all threads) and of wall time per request. This is
    far less sensitive to other load on the machine than wrk's requests/s, and shows the
    part of a request's cost that each layer adds. Pin it with ``taskset -c 1`` to mimic
    bench_endpoint.py's single-CPU server.

Also prints the top functions of a cProfile of ``ours-async`` and ``ours-sync``.
Usage: ``python3 scripts/bench_dispatch_micro.py [--quick] [--no-profile]``
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib.util
import io
import logging
import os
import pstats
import sys
import time
from typing import Any

import tornado.httputil
import tornado.web
from tornado.concurrent import Future

from _benchlib import BENCH_APPS, REPO_DIR

SITE = os.path.dirname(os.path.dirname(tornado.__file__)) + "/"

ENDPOINTS: tuple[str, ...] = ("raw", "raw-async", "raw-executor", "ours-async", "ours-sync")
COOKIE = "_streamlit_xsrf=2|6b1c1f0e|3f5e0f6a1c9b8e2d4a7c6b5e3d2f1a0b|1795908436; session=abc"


class NullConnection(tornado.httputil.HTTPConnection):
    """An HTTP connection that drops what is written and reports when the response ends."""

    def __init__(self) -> None:
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.bytes = 0

    def set_close_callback(self, callback: Any) -> None:
        pass

    def write_headers(self, start_line: Any, headers: Any, chunk: bytes | None = None) -> Future[None]:
        self.bytes += len(chunk or b"")
        done: Future[None] = Future()
        done.set_result(None)
        return done

    def write(self, chunk: bytes) -> Future[None]:
        self.bytes += len(chunk)
        done: Future[None] = Future()
        done.set_result(None)
        return done

    def finish(self) -> None:
        self.finished.set_result(None)


def build_app() -> tornado.web.Application:
    spec = importlib.util.spec_from_file_location("bench_routes", BENCH_APPS / "bench_routes.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # registers the routes in stauth_server's REGISTRY

    from stauth_server.web.routes import REGISTRY
    from stauth_server.tornado.server import build_handlers

    try:
        from streamlit.web.server.server import get_tornado_settings

        settings = dict(get_tornado_settings())
    except Exception:  # only a diagnostic: fall back to the setting that matters here
        settings = {"compress_response": True}
    settings.update(cookie_secret="bench", xsrf_cookies=True, xsrf_cookie_name="_streamlit_xsrf")
    for name in ("tornado.access", "tornado.application", "tornado.general"):
        logging.getLogger(name).setLevel(logging.ERROR)  # as Streamlit's server does
    return tornado.web.Application(build_handlers(REGISTRY), **settings)


async def one_request(app: tornado.web.Application, path: str, cookie: str | None) -> int:
    connection = NullConnection()
    headers = tornado.httputil.HTTPHeaders({"Host": "127.0.0.1:8501", "User-Agent": "bench"})
    if cookie:
        headers["Cookie"] = cookie
    request = tornado.httputil.HTTPServerRequest(
        start_line=tornado.httputil.RequestStartLine("GET", path, "HTTP/1.1"),
        headers=headers,
        body=b"",
        connection=connection,
    )
    app(request)
    await connection.finished
    return connection.bytes


async def batch(app: tornado.web.Application, path: str, n: int, cookie: str | None) -> tuple[float, float]:
    """(CPU us/request, wall us/request) over ``n`` sequential requests."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(n):
        await one_request(app, path, cookie)
    return (time.process_time() - cpu0) / n * 1e6, (time.perf_counter() - wall0) / n * 1e6


async def run(args: argparse.Namespace) -> None:
    app = build_app()
    for name in ENDPOINTS:  # sanity check and warm-up
        size = await one_request(app, f"/bench/{name}", None)
        if size < 20:
            raise SystemExit(f"/bench/{name} wrote only {size} bytes: not served?")
        await batch(app, f"/bench/{name}", args.batch // 4, None)
    scenarios = [("no cookie", None)] + ([] if args.no_cookie else [("cookie", COOKIE)])
    best: dict[tuple[str, str], tuple[float, float]] = {}
    for _ in range(args.rounds):
        for label, cookie in scenarios:
            for name in ENDPOINTS:
                cpu, wall = await batch(app, f"/bench/{name}", args.batch, cookie)
                old = best.get((label, name))
                best[(label, name)] = (min(cpu, old[0]), min(wall, old[1])) if old else (cpu, wall)

    affinity = sorted(os.sched_getaffinity(0))
    print(f"CPUs allowed: {affinity}; {args.rounds} rounds x {args.batch} requests; best round shown")
    print(f"{'scenario':<10} {'endpoint':<13} {'cpu us/req':>10} {'+ vs raw':>8} {'wall us/req':>11} "
          f"{'+ vs raw':>8} {'raw/this (wall)':>15}")
    for label, _ in scenarios:
        raw_cpu, raw_wall = best[(label, "raw")]
        for name in ENDPOINTS:
            cpu, wall = best[(label, name)]
            print(f"{label:<10} {name:<13} {cpu:10.1f} {cpu - raw_cpu:+8.1f} {wall:11.1f} "
                  f"{wall - raw_wall:+8.1f} {raw_wall / wall:15.3f}")

    if not args.no_profile:
        for name in ("ours-async", "ours-sync"):
            profiler = cProfile.Profile()
            profiler.enable()
            await batch(app, f"/bench/{name}", args.batch, None)
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
            stats.print_stats(r"stauth_server|bench_routes|run_in_executor|web.py.*(_execute|finish)", 14)
            lines = [line for line in out.getvalue().splitlines() if line.strip()]
            print(f"\ncProfile of /bench/{name}, {args.batch} requests, cumulative, stauth_server and "
                  "a few Tornado functions (event-loop thread only):")
            start = next(i for i, line in enumerate(lines) if "ncalls" in line)
            print("\n".join(line.replace(str(REPO_DIR) + "/", "").replace(SITE, "")
                            for line in lines[start:start + 15]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests (about 10 s)")
    parser.add_argument("--batch", type=int, default=None, help="requests per batch (1000; quick: 400)")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (15; quick: 6)")
    parser.add_argument("--no-cookie", action="store_true", help="skip the Cookie-header scenario")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile listings")
    args = parser.parse_args()
    args.batch = args.batch or (400 if args.quick else 1000)
    args.rounds = args.rounds or (6 if args.quick else 15)
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
