#!/usr/bin/env python3
"""Benchmark: a ``@sa.route`` endpoint vs the same endpoint as a raw Tornado handler.

What is compared
    One ``streamlit-auth run`` server (scripts/bench_apps/hi.py with the routes module
    scripts/bench_apps/bench_routes.py) serves three GET endpoints returning the same
    small JSON object:

    * ``/bench/ours-async``: ``@sa.route`` with an ``async def`` handler;
    * ``/bench/ours-sync``:  ``@sa.route`` with a plain ``def`` handler (streamlit-auth
      runs it in the event loop's default thread pool);
    * ``/bench/raw``:        the baseline, a raw handler in the same server and none of our
      dispatch code. Streamlit 1.56 (Tornado): a ``tornado.web.RequestHandler`` whose
      ``get()`` does ``self.write(dict)``, mounted with ``sa.mount_tornado`` (the same
      Tornado application). Streamlit 1.67 (Starlette): a raw Starlette route, the issue's
      baseline: a ``Router`` with one ``Route`` whose endpoint returns a ``JSONResponse``,
      mounted with ``sa.mount_asgi("/bench/raw", ...)`` and requested at ``/bench/raw/``
      (the mount hands it the path after the prefix); the request crosses uvicorn and our
      ``AuthFront`` (sanitising, mount lookup) as ours does, then Starlette's routing.

    The ratio ours/raw of requests per second is the cost of our dispatch layer; the
    target is >= 0.95 for the async route (the sync one is reported against the older
    0.9).

Generations
    ``--generation st156|st167|both`` (default both): the server runs on Streamlit 1.56
    (this interpreter's environment, Tornado) or 1.67 (``.venv-st167``, Starlette/uvicorn);
    "both" runs the script once per generation, one after the other, and ends with a table
    of both. wrk and this script are the same for both.

How
    * the server is pinned to one CPU and ``wrk`` to another with ``taskset`` (when
      there are two CPUs and taskset exists);
    * before measuring, every endpoint must answer 200 with a JSON body holding the same
      value, with and without the Cookie header (the bytes differ: Tornado's
      ``self.write(dict)`` writes ``{"ok": true, ...}``, 37 B, ours the compact
      ``{"ok":true,...}``, 32 B);
    * ``wrk -t1 -c10 --latency``: a warm-up run per endpoint, then ``--reps`` rounds in
      which every endpoint is measured once, in a rotating order (interleaved, so drift
      of the machine hits all endpoints alike); the median of the rounds is reported,
      requests/s and the p50/p99 latency of wrk's ``--latency`` output;
    * the same, with a browser-like ``Cookie`` header on every request (``--no-cookie``
      to skip); with no sign-in configured (as here) our handler does not read cookies
      on a GET, so this mostly guards against a future per-request cookie cost;
    * before each run the script waits (up to 3 s, within a time budget) for other
      processes to go quiet, and measures how much CPU they used during the run; a run
      where they used over 15% of a CPU is "disturbed", re-run once if the budget
      allows, and left out of the medians when every endpoint has an undisturbed run;
    * the server's CPU time per request (all its threads, from /proc) is reported too:
      it is much less sensitive than requests/s to other load on the machine;
    * Streamlit 1.67 leaves Nagle's algorithm on for its connections (it binds the
      listening socket itself with protocol number 0, so asyncio does not set
      TCP_NODELAY); a response written in two parts then waits for wrk's delayed ACK
      (~40 ms), which caps 10 connections at ~225 req/s for every endpoint alike and makes
      the req/s ratio meaningless there (the CPU ratio still holds).
      So on st167 the server sets TCP_NODELAY by default (a benchmark-only patch in
      bench_routes.py, the same for every endpoint), to measure the CPU-bound throughput;
      ``--stock-nagle`` leaves Streamlit's sockets as they are (the table then says the
      req/s ratio is n/a);
    * ``--diagnose`` adds two raw variants that isolate where a sync-route gap comes
      from: ``/bench/raw-async`` (an ``async def get``) and ``/bench/raw-executor``
      (``await loop.run_in_executor(None, f)``, the thread-pool hop a sync route takes),
      and skips the cookie runs; on Starlette it adds ``/bench/raw-response`` (a
      ``JSONResponse`` as the mounted ASGI app: no Router, no Request; the baseline of runs
      before 2026-11-30 03:30) and ``/bench/raw-asgi`` (a bare ASGI callable: the floor).
      scripts/bench_dispatch_micro.py measures the same
      handlers without sockets, for a per-layer cost.

The server is always stopped at the end (process-group kill), also on error or Ctrl-C.
The last line printed is ``endpoint ratio async/raw=X sync/raw=Y``.

Usage: ``python3 scripts/bench_endpoint.py [--generation both] [--quick] [--diagnose] [--no-cookie]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from _benchlib import (
    BENCH_APPS,
    COMMON_FLAGS,
    HOST,
    busy_cpu_seconds,
    add_generation_argument,
    argv_without_generation,
    children_cpu_seconds,
    emit_result,
    generation_console_script,
    run_generations,
    use_generation,
    exit_on_sigterm,
    free_port,
    median,
    own_cpu_seconds,
    pinning_cpus,
    sample_process,
    spawn,
    stop_group,
    tail,
    taskset_prefix,
    wait_healthy,
    wait_quiet,
)

APP = BENCH_APPS / "hi.py"
ROUTES = BENCH_APPS / "bench_routes.py"
MAIN_ENDPOINTS: tuple[str, ...] = ("raw", "ours-async", "ours-sync")
DIAGNOSTIC_ENDPOINTS: dict[str, tuple[str, ...]] = {"st156": ("raw-async", "raw-executor"),
                                                    "st167": ("raw-response", "raw-asgi")}
#: Where an endpoint answers when not at /bench/<name>: the Starlette route baseline is a
#: Router mounted at /bench/raw, so its own route is the mount's "/".
URL_PATHS: dict[str, dict[str, str]] = {"st167": {"raw": "/bench/raw/"}}


def url_path(name: str, generation: str) -> str:
    return URL_PATHS.get(generation, {}).get(name, f"/bench/{name}")
ASYNC_TARGET = 0.95  # the target for the async route
SYNC_TARGET = 0.9  # the earlier target, kept for the sync route
#: Looks like what a browser sends to a Streamlit app (XSRF cookie + analytics + session).
COOKIE = (
    "_streamlit_xsrf=2|6b1c1f0e|3f5e0f6a1c9b8e2d4a7c6b5e3d2f1a0b|1795908436; "
    "ajs_anonymous_id=5b2f4c1e-7d3a-4e8b-9f10-2c3d4e5f6a7b; "
    "session=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.sig"
)


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx/3xx responses + socket errors
    cpu_us_per_req: float = float("nan")  # server CPU time (all threads) per request
    other_pct: float = float("nan")  # CPU used by other processes during the run, % of one CPU

    def disturbed(self, threshold: float) -> bool:
        return self.other_pct > threshold


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _to_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unparsable wrk latency {text!r}")
    return float(match.group(1)) * _UNIT_MS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    """Requests/s, p50, p99, request count and errors from ``wrk --latency`` output."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    count = re.search(r"(\d+) requests in", output)
    if not (rps and p50 and p99 and count):
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    errors = 0
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non2xx:
        errors += int(non2xx.group(1))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if sock:
        errors += sum(int(g) for g in sock.groups())
    return WrkResult(
        rps=float(rps.group(1)),
        p50_ms=_to_ms(p50.group(1)),
        p99_ms=_to_ms(p99.group(1)),
        requests=int(count.group(1)),
        errors=errors,
    )


def run_wrk(
    url: str,
    seconds: float,
    connections: int,
    cookie: str | None,
    client_cpu: int | None,
    server_pid: int,
) -> WrkResult:
    cmd = [*taskset_prefix(client_cpu), "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s",
           "--latency", "--timeout", "5s"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    cmd.append(url)

    def sample() -> tuple[float, float, float, float]:
        server = sample_process(server_pid).cpu_s
        return server, busy_cpu_seconds(), children_cpu_seconds(), own_cpu_seconds()

    server0, busy0, kids0, own0 = sample()
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30, check=False)
    elapsed = time.perf_counter() - started
    server1, busy1, kids1, own1 = sample()
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    result = parse_wrk(done.stdout)
    server_cpu = server1 - server0
    if result.requests:
        result.cpu_us_per_req = server_cpu / result.requests * 1e6
    ours = server_cpu + (kids1 - kids0) + (own1 - own0)  # server + wrk + this script
    result.other_pct = max(0.0, (busy1 - busy0) - ours) / elapsed * 100
    return result


def verify_bodies(port: int, endpoints: tuple[str, ...], generation: str) -> None:
    """Every endpoint answers 200 with JSON equal to the raw handler's (raises otherwise)."""
    values: dict[str, object] = {}
    for name in endpoints:
        for cookie in (None, COOKIE):
            headers = {"Cookie": cookie} if cookie else {}
            response = requests.get(f"http://{HOST}:{port}{url_path(name, generation)}", headers=headers,
                                    timeout=5, allow_redirects=False)
            ctype = response.headers.get("Content-Type", "")
            if response.status_code != 200 or not ctype.lower().startswith("application/json"):
                raise RuntimeError(
                    f"/bench/{name}: HTTP {response.status_code} {ctype!r}: {response.text[:200]!r}"
                )
            value = response.json()
            if name in values and values[name] != value:
                raise RuntimeError(f"/bench/{name} answers differently with a Cookie header")
            values[name] = value
            if cookie is None:
                how = response.headers.get("X-Bench-Mount")
                print(f"  /bench/{name:<13} 200 {ctype:<32} {len(response.content):>3} B  {response.text}"
                      + (f"  (mounted with {how})" if how else ""))
    reference = values["raw"]
    different = [name for name, value in values.items() if value != reference]
    if different:
        raise RuntimeError(f"bodies differ from /bench/raw: {different}: {values}")
    print(f"  all {len(values)} endpoints return the same JSON value: {json.dumps(reference)}")


def start_server(port: int, server_cpu: int | None, log_path: Path, nodelay: bool = False
                 ) -> subprocess.Popen[bytes]:
    cmd = [
        *taskset_prefix(server_cpu),
        generation_console_script("streamlit-auth"), "run", str(APP), "--routes", str(ROUTES),
        *COMMON_FLAGS, "--server.port", str(port),
    ]
    print("server: " + " ".join(cmd) + ("  (BENCH_TCP_NODELAY=1)" if nodelay else ""))
    return spawn(cmd, log_path, env={"BENCH_TCP_NODELAY": "1"} if nodelay else None)


def _run_line(prefix: str, result: WrkResult, threshold: float) -> str:
    return (f"  {prefix} {result.rps:8.1f} req/s  p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  "
            f"cpu {result.cpu_us_per_req:4.0f} us/req  others {result.other_pct:3.0f}%"
            + ("  DISTURBED" if result.disturbed(threshold) else "")
            + (f"  ERRORS {result.errors}" if result.errors else ""))


def summarize(
    scenarios: list[tuple[str, str | None, tuple[str, ...]]],
    results: dict[tuple[str, str], list[WrkResult]],
    threshold: float,
) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Print the table; return ratios ours/raw of median req/s, and the noisy scenarios."""
    print()
    print("Medians over the rounds: over the undisturbed runs when every endpoint of the scenario")
    print("has one, else over all ('*'). us/req = server CPU time per request, all threads; 'cpu vs raw' =")
    print("raw's us/req / this one's: the same ratio as 'vs raw' when nothing else competes.")
    print(f"{'scenario':<10} {'endpoint':<13} {'req/s':>8} {'vs raw':>6} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'min..max req/s':>14} {'us/req':>6} {'cpu vs raw':>10} {'runs':>5} {'errors':>6}")
    ratios: dict[str, dict[str, float]] = {}
    noisy: list[str] = []
    any_errors = False
    for label, _, names in scenarios:
        # Undisturbed runs only when every endpoint of the scenario has some, else all runs:
        # comparing clean runs of one endpoint with disturbed runs of another means nothing.
        clean = {name: [r for r in results[(label, name)] if not r.disturbed(threshold)] for name in names}
        use_clean = all(clean.values())
        kept = {name: clean[name] if use_clean else results[(label, name)] for name in names}
        if not use_clean:
            noisy.append(label)
            print(f"({label}: some endpoint has no undisturbed run, so all runs are used: noisy)")
        raw_rps = median([r.rps for r in kept["raw"]])
        raw_cpu = median([r.cpu_us_per_req for r in kept["raw"]])
        for name in names:
            rows = kept[name]
            rps = median([r.rps for r in rows])
            cpu = median([r.cpu_us_per_req for r in rows])
            ratio = rps / raw_rps if raw_rps else float("nan")
            ratios.setdefault(label, {})[name] = ratio
            errors = sum(r.errors for r in results[(label, name)])
            any_errors |= errors > 0
            spread = f"{min(r.rps for r in rows):.0f}..{max(r.rps for r in rows):.0f}"
            star = " " if use_clean else "*"
            print(f"{label:<10} {name:<13} {rps:8.1f} {ratio:6.3f} {median([r.p50_ms for r in rows]):7.2f} "
                  f"{median([r.p99_ms for r in rows]):7.2f} {spread:>14} {cpu:6.0f} {raw_cpu / cpu:10.3f} "
                  f"{len(rows):>4}{star} {errors:>6}")
    print()
    if any_errors:
        print("WARNING: some requests failed (non-2xx/3xx or socket errors): see the errors column")
    return ratios, noisy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 s runs, 1 s warm-up (under a minute)")
    parser.add_argument("--duration", type=float, default=None, help="seconds per measured run (5)")
    parser.add_argument("--warmup", type=float, default=None, help="seconds of warm-up per endpoint (2)")
    parser.add_argument("--reps", type=int, default=3, help="measured rounds; the median is reported (3)")
    parser.add_argument("--connections", type=int, default=10, help="wrk connections (10)")
    parser.add_argument("--no-cookie", action="store_true", help="skip the runs with a Cookie header")
    parser.add_argument("--diagnose", action="store_true",
                        help="also measure raw-async and raw-executor (explains a sync-route gap); "
                        "skips the cookie runs")
    parser.add_argument("--no-pin", action="store_true", help="do not pin with taskset")
    parser.add_argument("--disturbed", type=float, default=15.0, metavar="PCT",
                        help="a run is disturbed when other processes used more than PCT%% of a CPU (15)")
    parser.add_argument("--budget", type=float, default=None, metavar="S",
                        help="re-run disturbed runs while the whole script is under S seconds (110; quick: 55)")
    parser.add_argument("--stock-nagle", action="store_true",
                        help="st167: leave Streamlit 1.67's sockets as they are (Nagle on: every endpoint capped "
                        "at ~225 req/s by a ~40 ms delayed-ACK stall); by default the server sets TCP_NODELAY "
                        "(benchmark-only patch in bench_routes.py, see its docstring)")
    add_generation_argument(parser)
    args = parser.parse_args()
    if args.generation == "both":
        return both_generations(run_generations(__file__, argv_without_generation(), ("st156", "st167")))
    version = use_generation(args.generation)
    duration = args.duration or (2.0 if args.quick else 5.0)
    warmup = args.warmup or (1.0 if args.quick else 2.0)
    budget = args.budget or (55.0 if args.quick else 110.0)
    script_start = time.perf_counter()

    if shutil.which("wrk") is None:
        print("error: wrk is not installed", file=sys.stderr)
        return 2
    exit_on_sigterm()
    load1 = os.getloadavg()[0]
    print(f"generation {args.generation}: Streamlit {version}; load average (1 min) at start: {load1:.2f}")
    cpus = None if args.no_pin else pinning_cpus()
    client_cpu, server_cpu = cpus if cpus else (None, None)
    print(f"pinning: wrk on CPU {client_cpu}, server on CPU {server_cpu}" if cpus else "pinning: none")

    endpoints = MAIN_ENDPOINTS + (DIAGNOSTIC_ENDPOINTS[args.generation] if args.diagnose else ())
    scenarios: list[tuple[str, str | None, tuple[str, ...]]] = [("no cookie", None, endpoints)]
    if not (args.no_cookie or args.diagnose):  # --diagnose: no cookie runs, to stay near 2 min
        scenarios.append(("cookie", COOKIE, MAIN_ENDPOINTS))
    runs = [(label, cookie, name) for label, cookie, names in scenarios for name in names]

    port = free_port()
    log_dir = Path(tempfile.mkdtemp(prefix="bench_endpoint_"))
    log_path = log_dir / "server.log"
    tcp_nodelay = args.generation == "st167" and not args.stock_nagle
    proc = start_server(port, server_cpu, log_path, tcp_nodelay)
    results: dict[tuple[str, str], list[WrkResult]] = {(label, name): [] for label, _, name in runs}
    try:
        started = time.perf_counter()
        wait_healthy(proc, port, timeout=90)
        print(f"healthy after {time.perf_counter() - started:.2f}s on port {port}")
        verify_bodies(port, endpoints, args.generation)

        print(f"warm-up: {warmup:g}s per endpoint")
        for name in endpoints:
            url = f"http://{HOST}:{port}{url_path(name, args.generation)}"
            run_wrk(url, warmup, args.connections, None, client_cpu, proc.pid)
        total = args.reps * len(runs) * duration
        print(f"measuring: {args.reps} rounds x {len(runs)} runs x {duration:g}s (~{total:.0f}s), "
              f"wrk -t1 -c{args.connections}; 'others' = CPU used by other processes meanwhile")
        for rep in range(args.reps):
            shift = rep % len(runs)
            for index, (label, cookie, name) in enumerate(runs[shift:] + runs[:shift]):
                url = f"http://{HOST}:{port}{url_path(name, args.generation)}"
                remaining_runs = (args.reps - rep) * len(runs) - index
                slack = budget - (time.perf_counter() - script_start) - remaining_runs * duration
                if slack > 1:  # wait for other processes to calm down, if the budget allows
                    waited, load = wait_quiet(args.disturbed, min(3.0, slack / 2))
                    if waited > 1:
                        print(f"  (waited {waited:.1f}s for other processes to calm down: {load:.0f}%)")
                result = run_wrk(url, duration, args.connections, cookie, client_cpu, proc.pid)
                results[(label, name)].append(result)
                print(_run_line(f"round {rep + 1} {label:<9} {name:<13}", result, args.disturbed))
                if result.disturbed(args.disturbed) and (
                    time.perf_counter() - script_start + remaining_runs * duration < budget
                ):
                    again = run_wrk(url, duration, args.connections, cookie, client_cpu, proc.pid)
                    results[(label, name)].append(again)
                    print(_run_line(f"  again {label:<9} {name:<13}", again, args.disturbed))
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited during the benchmark ({proc.returncode})")
    except BaseException:
        print(f"server log ({log_path}):\n{tail(log_path)}", file=sys.stderr)
        raise
    finally:
        stop_group(proc)
    shutil.rmtree(log_dir, ignore_errors=True)  # kept only when something failed

    ratios, noisy = summarize(scenarios, results, args.disturbed)
    disturbed = sum(r.disturbed(args.disturbed) for rows in results.values() for r in rows)
    if disturbed:
        print(f"note: {disturbed} run(s) were disturbed by other processes (> {args.disturbed:g}% of a CPU)")
    for label, values in ratios.items():
        verdict = ", ".join(
            f"{name}/raw={values[name]:.2f} {'ok' if values[name] >= target else f'BELOW {target}'}"
            for name, target in (("ours-async", ASYNC_TARGET), ("ours-sync", SYNC_TARGET))
        )
        extra = "".join(f", {name}/raw={values[name]:.2f}" for name in DIAGNOSTIC_ENDPOINTS[args.generation]
                        if name in values)
        print(f"[{label}] {verdict}{extra}")
    print(f"total time {time.perf_counter() - script_start:.0f}s")
    main_ratios = ratios["no cookie"]
    warning = ""
    if "no cookie" in noisy:
        warning = " (NOISY: other processes disturbed these runs, re-run on a quiet machine)"
    print(f"endpoint ratio async/raw={main_ratios['ours-async']:.2f} sync/raw={main_ratios['ours-sync']:.2f}"
          + warning)
    emit_result({
        "generation": args.generation, "streamlit": version, "noisy": noisy, "disturbed_runs": disturbed,
        "tcp_nodelay": tcp_nodelay,
        "runs": sum(len(rows) for rows in results.values()), "load1_start": load1,
        "errors": sum(r.errors for rows in results.values() for r in rows),
        "table": {f"{label}|{name}": {
            "ratio": ratios[label][name],
            "rps": median([r.rps for r in results[(label, name)]]),
            "cpu_us": median([r.cpu_us_per_req for r in results[(label, name)]]),
            "p50": median([r.p50_ms for r in results[(label, name)]]),
            "min": min(r.rps for r in results[(label, name)]),
            "max": max(r.rps for r in results[(label, name)]),
        } for label, name in results},
    })
    return 0


def both_generations(results: dict[str, dict | None]) -> int:
    """The table of both generations (medians over all runs of each endpoint here; each
    generation's own summary above uses only undisturbed runs where it can). 'cpu vs raw'
    = raw's server CPU per request / this one's: the ratio to trust when other processes
    compete for the CPUs (requests/s then mostly measures them)."""
    print("\n===== both generations: requests/s (median of the rounds), ratio to the raw handler "
          "of the same server, same run =====")
    print(f"{'generation':<10} {'scenario':<10} {'endpoint':<12} {'req/s':>8} {'min..max':>12} {'vs raw':>7} "
          f"{'p50 ms':>7} {'us/req':>7} {'cpu vs raw':>10} {'target':>7}")
    failed = False
    for generation, result in results.items():
        if result is None:
            print(f"{generation:<10} FAILED (see its output above)")
            failed = True
            continue
        for key, row in result["table"].items():
            label, name = key.split("|")
            raw_cpu = result["table"][f"{label}|raw"]["cpu_us"]
            target = {"ours-async": f">={ASYNC_TARGET}", "ours-sync": f">={SYNC_TARGET}"}.get(name, "")
            verdict = ""
            if target:
                verdict = " ok" if row["ratio"] >= float(target[2:]) else " BELOW"
                if result["table"][f"{label}|raw"]["p50"] >= 30:  # the ~40 ms delayed-ACK stall
                    verdict = " n/a: req/s capped by the stall, see 'cpu vs raw'"
            print(f"{generation:<10} {label:<10} {name:<12} {row['rps']:8.1f} "
                  f"{row['min']:5.0f}..{row['max']:<6.0f} {row['ratio']:7.3f} {row['p50']:7.2f} "
                  f"{row['cpu_us']:7.0f} {raw_cpu / row['cpu_us']:10.3f} {target:>7}{verdict}")
        print(f"{'':<10} Streamlit {result['streamlit']}; {result['disturbed_runs']} of {result['runs']} runs "
              f"disturbed by other processes; noisy scenarios: {', '.join(result['noisy']) or 'none'}; "
              f"errors {result['errors']}" + ("; server with TCP_NODELAY (benchmark-only patch; --stock-nagle "
                                              "for Streamlit's own sockets)" if result.get("tcp_nodelay") else ""))
    line = "; ".join(
        f"{g} async/raw={r['table']['no cookie|ours-async']['ratio']:.2f} sync/raw="
        f"{r['table']['no cookie|ours-sync']['ratio']:.2f}" for g, r in results.items() if r is not None)
    print(f"endpoint ratios (no cookie): {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
