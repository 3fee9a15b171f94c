"""Shared helpers for the scripts/bench_*.py benchmarks (stdlib only).

Free ports, locating the console scripts, starting a server in its own process group
and always stopping it, and polling ``/_stcore/health``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
SCRIPTS_DIR = Path(__file__).resolve().parent
REPO_DIR = SCRIPTS_DIR.parent
BENCH_APPS = SCRIPTS_DIR / "bench_apps"

#: The flags every benchmarked server gets (both ``streamlit run`` and ``streamlit-auth run``).
COMMON_FLAGS: tuple[str, ...] = (
    "--server.headless", "true",
    "--browser.gatherUsageStats", "false",
    "--server.address", HOST,
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (bind to port 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def console_script(name: str) -> str:
    """The real console script ``name`` of this interpreter's environment.

    Prefers the file next to ``sys.executable`` so that a version-manager shim (pyenv's
    are bash scripts that re-exec Python) does not add its own start-up time.
    """
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"error: the {name!r} command was not found")
    return found


def taskset_prefix(cpu: int | None) -> list[str]:
    """``["taskset", "-c", cpu]`` when pinning is possible and asked for, else ``[]``."""
    if cpu is None or shutil.which("taskset") is None:
        return []
    if cpu not in os.sched_getaffinity(0):
        return []
    return ["taskset", "-c", str(cpu)]


def pinning_cpus() -> tuple[int, int] | None:
    """(client CPU, server CPU) when this process may run on at least two CPUs."""
    if shutil.which("taskset") is None:
        return None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None
    return cpus[0], cpus[1]


def spawn(
    cmd: Sequence[str],
    log_path: Path | None = None,
    *,
    cwd: Path | str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``cmd`` in a new process group (session), output to ``log_path`` or discarded.

    ``cwd`` defaults to the repository; ``env`` entries are added to this environment.
    """
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
    try:
        return subprocess.Popen(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=cwd or REPO_DIR,
            env={**os.environ, **env} if env else None,
        )
    finally:
        if log_path:
            out.close()  # type: ignore[union-attr]


def stop_group(proc: subprocess.Popen[bytes], grace: float = 3.0) -> None:
    """SIGTERM the process group of ``proc``, SIGKILL it after ``grace`` seconds."""
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        pgid = None
    if pgid is not None and pgid == proc.pid:  # only a group we created
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    elif proc.poll() is None:
        proc.kill()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def health_ok(port: int, timeout: float = 1.0) -> bool:
    """True when ``GET /_stcore/health`` answers 200 with the body ``ok``."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", "/_stcore/health")
        response = conn.getresponse()
        return response.status == 200 and response.read().strip() == b"ok"
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def wait_healthy(
    proc: subprocess.Popen[bytes], port: int, timeout: float = 60.0, interval: float = 0.01
) -> float:
    """Poll the health endpoint every ``interval`` s; perf_counter() when it said ok.

    Raises RuntimeError when the process exits first or ``timeout`` passes.
    """
    deadline = time.perf_counter() + timeout
    while True:
        if health_ok(port, timeout=max(interval, 0.5)):
            return time.perf_counter()
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before it was healthy")
        if time.perf_counter() > deadline:
            raise RuntimeError(f"server not healthy after {timeout:.0f}s")
        time.sleep(interval)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def exit_on_sigterm() -> None:
    """Turn SIGTERM/SIGHUP into SystemExit so ``finally`` blocks stop the servers."""

    def _raise(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _raise)
    signal.signal(signal.SIGHUP, _raise)


def wait_for_exit(pid: int, timeout: float = 4.0) -> bool:
    """Wait until process ``pid`` is gone; whether it went within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.02)
    return False


_CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class ProcSample:
    """CPU time a process used (all threads) and time its threads waited for a CPU."""

    cpu_s: float
    wait_s: float


def sample_process(pid: int) -> ProcSample:
    """Read ``/proc/<pid>/stat`` (utime+stime) and every thread's ``schedstat`` wait time."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / _CLK_TCK  # utime, stime (fields 14, 15)
    wait_ns = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/schedstat") as handle:
                    wait_ns += int(handle.read().split()[1])
            except (OSError, IndexError, ValueError):
                continue
    except OSError:
        pass
    return ProcSample(cpu, wait_ns / 1e9)


def busy_cpu_seconds() -> float:
    """Busy time of all CPUs so far (user+nice+system+irq+softirq+steal), from /proc/stat."""
    with open("/proc/stat") as handle:
        fields = handle.readline().split()
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / _CLK_TCK


def children_cpu_seconds() -> float:
    """CPU time of this process's reaped children (wrk runs, for instance)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def others_load(seconds: float = 0.3) -> float:
    """CPU used by all processes but this one over ``seconds``, in % of one CPU.

    Meant for moments when the benchmarked server is idle (between runs).
    """
    busy0, own0 = busy_cpu_seconds(), own_cpu_seconds()
    started = time.perf_counter()
    time.sleep(seconds)
    elapsed = time.perf_counter() - started
    return max(0.0, (busy_cpu_seconds() - busy0) - (own_cpu_seconds() - own0)) / elapsed * 100


def wait_quiet(threshold: float, max_seconds: float) -> tuple[float, float]:
    """Wait (at most ``max_seconds``) until other processes use < ``threshold``% of a CPU.

    Returns (seconds waited, last measured load).
    """
    started = time.perf_counter()
    load = others_load()
    while load >= threshold and time.perf_counter() - started < max_seconds:
        load = others_load(0.5)
    return time.perf_counter() - started, load


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct``-th percentile (0..100) of ``values``, linear between closest ranks."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _ppid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def process_tree(roots: Sequence[int]) -> set[int]:
    """``roots`` and all their live descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            parent = _ppid(int(entry))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry))
    found: set[int] = set()
    todo = list(roots)
    while todo:
        pid = todo.pop()
        if pid in found:
            continue
        found.add(pid)
        todo.extend(children.get(pid, ()))
    return found


def threads_runtime_seconds(pid: int) -> float:
    """CPU time of ``pid``'s live threads, in ns precision (``/proc/<pid>/task/*/schedstat``)."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as handle:
                total += int(handle.read().split()[0])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


def process_ticks_seconds(pid: int) -> float:
    """utime + stime of ``pid`` from /proc/<pid>/stat: every thread, exited ones included
    (clock-tick precision)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


class OthersMeter:
    """CPU used by processes that are not ours over an interval, in % of one CPU.

    "Ours" is this process, its descendants (a browser started by Playwright, for
    instance) and the process trees of ``roots`` (the benchmarked servers). A process's
    CPU is the larger of its live threads' time (nanoseconds) and its /proc/<pid>/stat
    time (clock ticks, but counting threads that ended meanwhile: Streamlit runs every
    script in a thread of its own). The machine's busy time comes from /proc/stat in
    clock ticks (10 ms), so over a short interval the result is coarse (about +-10% of a
    CPU for 0.2 s) and errs high when one of our processes exits meanwhile: use it to
    flag disturbed samples with a generous threshold, not as a precise measure.
    Sampling walks /proc (a few ms): call ``start``/``stop`` outside timed regions.
    """

    def __init__(self, roots: Sequence[int] = ()):
        self.roots = list(roots)
        self._start: tuple[float, float, float, dict[int, tuple[float, float]]] | None = None

    def _sample(self) -> tuple[float, float, float, dict[int, tuple[float, float]]]:
        pids = process_tree([os.getpid(), *self.roots]) - {os.getpid()}
        per_pid = {pid: (threads_runtime_seconds(pid), process_ticks_seconds(pid)) for pid in pids}
        return time.perf_counter(), busy_cpu_seconds(), own_cpu_seconds(), per_pid

    def start(self) -> None:
        self._start = self._sample()

    def stop(self) -> float:
        """Others' CPU since ``start``, in % of one CPU."""
        assert self._start is not None, "start() first"
        t0, busy0, own0, pids0 = self._start
        t1, busy1, own1, pids1 = self._sample()
        ours = own1 - own0
        for pid, (threads1, ticks1) in pids1.items():
            threads0, ticks0 = pids0.get(pid, (0.0, 0.0))
            ours += max(threads1 - threads0, ticks1 - ticks0)
        elapsed = max(t1 - t0, 1e-6)
        return max(0.0, (busy1 - busy0) - ours) / elapsed * 100


def ratio_interval(ours: Sequence[float], theirs: Sequence[float], *, rounds: int = 2000,
                   confidence: float = 0.95, seed: int = 1) -> tuple[float, float]:
    """A bootstrap interval for median(ours) / median(theirs).

    Tells whether a handful of noisy samples can resolve a target at all: with a
    1.05 target and an interval of 0.90..1.20, they cannot.
    """
    import random

    if not ours or not theirs:
        return float("nan"), float("nan")
    rng = random.Random(seed)
    ratios = []
    for _ in range(rounds):
        a = [rng.choice(ours) for _ in ours]
        b = [rng.choice(theirs) for _ in theirs]
        denominator = statistics.median(b)
        if denominator:
            ratios.append(statistics.median(a) / denominator)
    tail_pct = (1 - confidence) / 2 * 100
    return percentile(ratios, tail_pct), percentile(ratios, 100 - tail_pct)


# --- server generations (Streamlit 1.56 on Tornado, 1.67 on Starlette) ----------------------

#: ``--generation`` names: which Streamlit (and so which of its servers) the benchmarked
#: servers run on. The harness itself (clients, browser, OP) always runs in this interpreter.
GENERATIONS: dict[str, str] = {
    "st156": "Streamlit 1.56.0, Tornado server (this interpreter's environment)",
    "st167": "Streamlit 1.67.0, Starlette/uvicorn server (.venv-st167)",
}
ST167_VENV = REPO_DIR / ".venv-st167"
_current_generation: str | None = None


def generation_python(name: str) -> str:
    """The interpreter whose environment has generation ``name``'s Streamlit."""
    if name == "st156":
        return sys.executable
    if name == "st167":
        python = ST167_VENV / "bin" / "python"
        if not python.exists():
            raise SystemExit(f"error: {python} is missing (scripts/setup-test-env.sh builds it)")
        return str(python)
    raise SystemExit(f"error: unknown generation {name!r} (one of {', '.join(GENERATIONS)})")


def use_generation(name: str) -> str:
    """Make ``console_script`` resolve in generation ``name``'s environment; returns its
    ``streamlit`` version (checked against the name)."""
    global _current_generation
    python = generation_python(name)
    _current_generation = name
    version = subprocess.run([python, "-c", "import streamlit; print(streamlit.__version__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    expected = {"st156": "1.56.", "st167": "1.67."}[name]
    if not version.startswith(expected):
        raise SystemExit(f"error: generation {name} expects Streamlit {expected}x, {python} has {version}")
    return version


def current_generation() -> str:
    return _current_generation or "st156"


def generation_console_script(name: str) -> str:
    """``console_script(name)`` of the generation chosen with ``use_generation``."""
    if current_generation() == "st156":
        return console_script(name)
    found = Path(generation_python(current_generation())).parent / name
    if not found.is_file():
        raise SystemExit(f"error: {found} is missing")
    return str(found)


def add_generation_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--generation", choices=(*GENERATIONS, "both"), default="both",
                        help="which Streamlit generation the servers run on: st156 (1.56, Tornado), st167 "
                        "(1.67, Starlette, from .venv-st167) or both, one after the other, with a table of "
                        "both at the end (default: both)")


def argv_without_generation() -> list[str]:
    """This script's arguments without ``--generation X`` / ``--generation=X``."""
    argv = list(sys.argv[1:])
    if "--generation" in argv:
        at = argv.index("--generation")
        del argv[at:at + 2]
    return [a for a in argv if not a.startswith("--generation=")]


RESULT_PREFIX = "BENCH-RESULT "


def emit_result(values: dict[str, object]) -> None:
    """The machine-readable last word of a one-generation run (read by ``run_generations``)."""
    import json

    print(RESULT_PREFIX + json.dumps(values, sort_keys=True), flush=True)


def run_generations(script: str, argv: Sequence[str], names: Sequence[str]
                    ) -> dict[str, dict[str, object] | None]:
    """Run ``script`` once per generation (``--generation NAME`` plus ``argv``), in this
    interpreter, its output passed through with a ``[NAME]`` prefix; each run's result
    (``emit_result``), or None when it failed."""
    import json

    results: dict[str, dict[str, object] | None] = {}
    for name in names:
        print(f"\n===== generation {name}: {GENERATIONS[name]} =====", flush=True)
        proc = subprocess.Popen([sys.executable, "-u", script, *argv, "--generation", name],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO_DIR)
        result = None
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                if line.startswith(RESULT_PREFIX):
                    result = json.loads(line[len(RESULT_PREFIX):])
                print(f"[{name}] {line}", end="", flush=True)
        finally:
            if proc.wait() != 0:
                print(f"[{name}] FAILED: exit code {proc.returncode}", flush=True)
                result = None
        results[name] = result
    return results
