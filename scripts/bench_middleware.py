#!/usr/bin/env python3
"""Benchmark: the cost of one trivial ``@sa.middleware`` per page run.

What is compared
    One ``streamlit-auth run`` server of a one-page ``st.navigation`` app (the page writes
    one line), in two states switched between blocks of runs:

    * mw:   one declared middleware that returns None (it reads the path and counts the
      page runs, so the request view is built and used);
    * none: no middleware at all (the chain emptied: the code path of an app without one).

    One server and one session for both sides, so neither gets a faster process, port or
    cache than the other (two servers differed by more than the middleware costs). The
    ``--routes`` module switches the state through a route of its own (it empties or
    refills the chain between runs, never during one).

    The measure is one page run as the server sees it: over Streamlit's websocket
    protocol (Tornado's websocket client, as the second phase of bench_pageload.py does),
    the session sends a ``rerun_script`` BackMsg and times it to the ``script_finished``
    ForwardMsg. Every run of a page goes through the middlewares (a
    rerun after a widget interaction as much as a first load or a page switch), so a
    rerun is the page run with nothing else in it: no handshake, no session creation.

How
    * the server runs on a free 127.0.0.1 port, started by this script and stopped at the
      end (process-group kill), with Streamlit's defaults (post-script ``gc.collect()`` on);
    * ``--warmup`` untimed runs in each state, then ``-n`` timed runs per side in blocks of
      ``--block``, alternating mw/none (ABBA order), so load on the machine falls on both
      sides alike;
    * each page run must write the page's line, else the script stops with an error.

The ratio mw/none of the medians is printed with a 95% bootstrap interval, and the
difference of the medians in microseconds; also the server process's CPU time (utime +
stime, clock-tick precision) per timed page run on each side and their ratio. The
middleware counts the page runs it sees: the script fails unless it ran exactly once per
page run in the mw state and never in the none state. The last line is
``middleware ratio mw/none=R (interval L..H; +D us per page run; server CPU ratio C)``
(with ``--generation both``, a summary line of both).

Run it with this checkout first on ``PYTHONPATH`` (the servers are ``python -m
stauth_server`` of the generation's interpreter).

Usage: ``python3 scripts/bench_middleware.py [--generation st156|st167|both] [-n 400] [--block 20]``
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from _benchlib import (
    COMMON_FLAGS,
    HOST,
    add_generation_argument,
    argv_without_generation,
    emit_result,
    exit_on_sigterm,
    free_port,
    generation_python,
    median,
    process_ticks_seconds,
    ratio_interval,
    run_generations,
    spawn,
    stop_group,
    tail,
    use_generation,
    current_generation,
    wait_healthy,
)

KINDS = ("mw", "none")
LINE = "page-ran"

APP = f'''import streamlit as st


def page() -> None:
    st.write("{LINE}")


st.navigation([st.Page(page, title="Page", default=True)]).run()
'''

ROUTES = '''import stauth_server as sa
from stauth_server.web.middleware import CHAIN

RUNS = [0]


@sa.middleware
def trivial(request: sa.Request):
    if not request.path.startswith("/bench/"):  # page runs only, not the switch route
        RUNS[0] += 1
    return None


@sa.route("/bench/middleware")
def state(request: sa.Request) -> dict:
    """?on=1 / ?on=0 declares the middleware or empties the chain; answers the run count."""
    if request.query.get("on") == "1" and not CHAIN:
        CHAIN.add(trivial)
    elif request.query.get("on") == "0":
        CHAIN.clear()
    return {"runs": RUNS[0], "on": bool(CHAIN)}
'''


def write_app(app_dir: Path) -> None:
    app_dir.mkdir(parents=True)
    (app_dir / "app.py").write_text(APP)
    (app_dir / "routes.py").write_text(ROUTES)


def switch(port: int, on: bool | None = None) -> int:
    """Put the server in the mw (``on``) or none state; the middleware's run count."""
    import json
    import urllib.request

    query = "" if on is None else f"?on={int(on)}"
    with urllib.request.urlopen(f"http://{HOST}:{port}/bench/middleware{query}", timeout=5) as response:
        answer = json.load(response)
    if on is not None and answer["on"] != on:
        raise RuntimeError(f"the server did not switch the middleware {'on' if on else 'off'}")
    return int(answer["runs"])


def server_command(port: int) -> list[str]:
    """``streamlit-auth run`` in the chosen generation's environment (``python -m``, so the
    server imports this checkout when PYTHONPATH points at it)."""
    flags = [*COMMON_FLAGS, "--server.port", str(port), "--server.fileWatcherType", "none"]
    return [generation_python(current_generation()), "-m", "stauth_server", "run", "app.py", "--routes",
            "routes.py", *flags]


class Session:
    """One websocket session of a server: ``run()`` reruns the page and times it."""

    def __init__(self, kind: str, port: int) -> None:
        self.kind = kind
        self.port = port
        self.ws = None

    async def open(self) -> None:
        import tornado.httpclient
        import tornado.websocket

        request = tornado.httpclient.HTTPRequest(
            f"ws://{HOST}:{self.port}/_stcore/stream",
            headers={"Origin": f"http://{HOST}:{self.port}", "Sec-WebSocket-Protocol": "streamlit"},
        )
        self.ws = await tornado.websocket.websocket_connect(request)

    async def run(self) -> float:
        """One page run: rerun_script -> script_finished, in ms."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        rerun = BackMsg()
        rerun.rerun_script.query_string = ""
        rerun.rerun_script.page_script_hash = ""
        texts: list[str] = []
        started = time.perf_counter()
        await self.ws.write_message(rerun.SerializeToString(), binary=True)
        while True:
            raw = await asyncio.wait_for(self.ws.read_message(), timeout=30)
            if raw is None:
                raise RuntimeError(f"{self.kind}: the server closed the websocket")
            message = ForwardMsg.FromString(raw)
            kind_of = message.WhichOneof("type")
            if kind_of == "delta" and message.delta.WhichOneof("type") == "new_element":
                texts.append(message.delta.new_element.markdown.body)
            if kind_of == "script_finished":
                break
        elapsed = (time.perf_counter() - started) * 1000
        if LINE not in texts:
            raise RuntimeError(f"{self.kind}: the page wrote {texts}, expected {LINE!r}")
        return elapsed

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()


async def measure(port: int, pid: int, runs: int, warmup: int, block: int
                  ) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Latencies (ms) of every timed page run, and the server CPU (s) the timed runs used, per side.

    Fails unless the middleware ran exactly once per page run in the mw state and never
    in the none state.
    """
    switch(port, on=False)
    session = Session("bench", port)
    await session.open()
    try:
        times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        cpu = {kind: 0.0 for kind in KINDS}
        order = list(KINDS)
        for kind in order:
            switch(port, on=kind == "mw")
            for _ in range(warmup):
                await session.run()
        while min(len(v) for v in times.values()) < runs:
            for kind in order:
                count = switch(port, on=kind == "mw")
                size = min(block, runs - len(times[kind]))
                before = process_ticks_seconds(pid)
                for _ in range(size):
                    times[kind].append(await session.run())
                cpu[kind] += process_ticks_seconds(pid) - before
                ran = switch(port) - count
                if ran != (size if kind == "mw" else 0):
                    raise RuntimeError(f"{kind}: the middleware ran {ran} times in {size} page runs")
            order.reverse()
        return times, cpu
    finally:
        session.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--runs", type=int, default=400, help="timed page runs per side (400)")
    parser.add_argument("--warmup", type=int, default=30, help="untimed page runs per side first (30)")
    parser.add_argument("--block", type=int, default=20, help="runs per side before switching sides (20)")
    add_generation_argument(parser)
    args = parser.parse_args()
    if args.generation == "both":
        results = run_generations(__file__, argv_without_generation(), ("st156", "st167"))
        line = "; ".join(f"{g} ratio={r['ratio']:.3f} ({r['delta_us']:+.0f} us; CPU ratio {r['cpu_ratio']:.3f})"
                         for g, r in results.items() if r)
        print(f"\nmiddleware ratios mw/none: {line}")
        return 0 if all(results.values()) else 1
    version = use_generation(args.generation)
    exit_on_sigterm()
    work = Path(tempfile.mkdtemp(prefix="bench_middleware_"))
    app_dir = work / "app"
    write_app(app_dir)
    port = free_port()
    log = work / "server.log"
    proc = spawn(server_command(port), log, cwd=app_dir)
    try:
        try:
            wait_healthy(proc, port)
        except RuntimeError as exc:
            print(f"error: the server did not start: {exc}\n{tail(log)}", file=sys.stderr)
            return 2
        times, cpu = asyncio.run(measure(port, proc.pid, args.runs, args.warmup, args.block))
    finally:
        stop_group(proc)
    mw, none = median(times["mw"]), median(times["none"])
    low, high = ratio_interval(times["mw"], times["none"])
    ratio = mw / none
    delta_us = (mw - none) * 1000
    cpu_mw, cpu_none = (cpu[kind] / args.runs * 1000 for kind in KINDS)
    cpu_ratio = cpu_mw / cpu_none if cpu_none else float("nan")
    print(f"generation {args.generation}: Streamlit {version}; {args.runs} page runs per side, one server "
          "and one session; the middleware ran once per mw run and never in none runs")
    print(f"median page run (rerun_script -> script_finished): mw {mw:.3f} ms, none {none:.3f} ms")
    print(f"server CPU per page run (utime+stime, clock ticks): mw {cpu_mw:.3f} ms, none {cpu_none:.3f} ms, "
          f"ratio {cpu_ratio:.3f}")
    print(f"middleware ratio mw/none={ratio:.3f} (interval {low:.3f}..{high:.3f}; {delta_us:+.0f} us per page run; "
          f"server CPU ratio {cpu_ratio:.3f})")
    emit_result({"ratio": ratio, "low": low, "high": high, "delta_us": delta_us, "mw_ms": mw, "none_ms": none,
                 "cpu_ratio": cpu_ratio, "streamlit": version})
    return 0


if __name__ == "__main__":
    sys.exit(main())
