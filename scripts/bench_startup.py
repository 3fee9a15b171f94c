#!/usr/bin/env python3
"""Benchmark: start-up time of ``streamlit-auth run APP`` vs ``streamlit run APP``.

What is compared
    Time to healthy: from spawning the process until ``GET /_stcore/health`` answers
    ``ok``, for the same one-line app (scripts/bench_apps/hi.py, ``st.write("hi")``) run
    by Streamlit's own command and by streamlit-auth's (which swaps in its server
    subclass, loads its config and any ``--routes`` modules). Target: ours/streamlit
    <= 1.1.

How
    * both commands get the same flags (headless, no usage stats, 127.0.0.1, a fresh free
      port for every run) and are the console scripts next to this interpreter (so a
      pyenv shim's own start-up is not measured);
    * one untimed warm-up run of each (file cache), then ``-n`` timed runs of each,
      alternating ours/streamlit, the order flipped every pair (ABBA) to cancel drift;
    * the health endpoint is polled every 10 ms over a fresh connection;
    * each server is killed (its whole process group) before the next starts, also on
      error or Ctrl-C;
    * ``--routes`` also passes scripts/bench_apps/bench_routes.py to streamlit-auth, to
      include loading a routes module.

The last line printed is ``startup ratio ours/streamlit=R (median Xs vs Ys)``.

Usage: ``python3 scripts/bench_startup.py [--quick] [-n 7] [--routes]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _benchlib import (
    BENCH_APPS,
    COMMON_FLAGS,
    console_script,
    exit_on_sigterm,
    free_port,
    median,
    spawn,
    stop_group,
    tail,
    wait_healthy,
)

APP = BENCH_APPS / "hi.py"
ROUTES = BENCH_APPS / "bench_routes.py"


def command(kind: str, port: int, with_routes: bool) -> list[str]:
    if kind == "ours":
        extra = ["--routes", str(ROUTES)] if with_routes else []
        return [console_script("streamlit-auth"), "run", str(APP), *extra, *COMMON_FLAGS,
                "--server.port", str(port)]
    return [console_script("streamlit"), "run", str(APP), *COMMON_FLAGS, "--server.port", str(port)]


def time_to_healthy(kind: str, with_routes: bool, log_dir: Path, label: str) -> float:
    """Seconds from spawn to a healthy server; the server is stopped before returning."""
    port = free_port()
    log_path = log_dir / f"{label}.log"
    cmd = command(kind, port, with_routes)
    started = time.perf_counter()
    proc = spawn(cmd, log_path)
    try:
        healthy_at = wait_healthy(proc, port, timeout=60, interval=0.01)
    except BaseException:
        print(f"{kind} failed: {' '.join(cmd)}\n{tail(log_path)}", file=sys.stderr)
        raise
    finally:
        stop_group(proc)
    return healthy_at - started


def precompile_ours() -> None:
    """Write streamlit-auth's bytecode, as pip does when it installs a wheel.

    Streamlit's own modules in site-packages have their bytecode; an editable checkout
    under ``PYTHONDONTWRITEBYTECODE`` would otherwise compile ours at every start.
    """
    import stauth_server

    root = Path(stauth_server.__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(root / "stauth_server"), str(root / "patches")],
                   check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 timed runs of each, no warm-up")
    parser.add_argument("-n", "--runs", type=int, default=None, help="timed runs of each command (7)")
    parser.add_argument("--routes", action="store_true",
                        help="give streamlit-auth the bench routes module too")
    args = parser.parse_args()
    runs = args.runs or (3 if args.quick else 7)
    exit_on_sigterm()

    print(f"load average (1 min) at start: {os.getloadavg()[0]:.2f}")
    precompile_ours()
    print("bytecode of stauth_server and patches written first (as a wheel install does)")
    print("ours:      " + " ".join(command("ours", 0, args.routes)).replace("--server.port 0", "--server.port P"))
    print("streamlit: " + " ".join(command("streamlit", 0, False)).replace("--server.port 0", "--server.port P"))
    log_dir = Path(tempfile.mkdtemp(prefix="bench_startup_"))
    if not args.quick:
        for kind in ("ours", "streamlit"):
            seconds = time_to_healthy(kind, args.routes, log_dir, f"warmup-{kind}")
            print(f"  warm-up   {kind:<9} {seconds:6.3f}s (not counted)")

    times: dict[str, list[float]] = {"ours": [], "streamlit": []}
    for pair in range(runs):
        order = ("ours", "streamlit") if pair % 2 == 0 else ("streamlit", "ours")
        for kind in order:
            seconds = time_to_healthy(kind, args.routes, log_dir, f"{kind}-{pair}")
            times[kind].append(seconds)
            print(f"  run {pair + 1:<5} {kind:<9} {seconds:6.3f}s")

    shutil.rmtree(log_dir, ignore_errors=True)  # kept only when a run failed

    print()
    print(f"{'command':<10} {'median':>8} {'mean':>7} {'stdev':>7} {'min':>7} {'max':>7}  (seconds, n={runs})")
    for kind, values in times.items():
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        print(f"{kind:<10} {median(values):8.3f} {statistics.mean(values):7.3f} {spread:7.3f} "
              f"{min(values):7.3f} {max(values):7.3f}")
    ours, theirs = median(times["ours"]), median(times["streamlit"])
    ratio = ours / theirs
    print(f"difference of medians: {ours - theirs:+.3f}s; target ours/streamlit <= 1.1: "
          f"{'ok' if ratio <= 1.1 else 'ABOVE 1.1'}")
    print(f"startup ratio ours/streamlit={ratio:.2f} (median {ours:.2f}s vs {theirs:.2f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
