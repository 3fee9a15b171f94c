#!/usr/bin/env python3
"""Benchmark: a whole sign-in round trip, streamlit-auth vs Streamlit's native st.login.

What is compared
    The authorization code flow against a real OpenID Provider (tests/op/op.mjs: panva's
    oidc-provider on Node, its development login and consent forms), driven by
    ``requests`` as a browser would (no browser), for the same one-line app
    (scripts/bench_apps/hi.py) with the same ``[auth]`` secrets:

    * ours:   ``streamlit-auth run``; GET /auth/login -> 302 to the OP -> the OP's 303s to
      /interaction/<uid> -> POST the login form (prompt=login, login=alice, password=x)
      -> 303s -> POST the consent form (prompt=consent) -> 303s to our /oauth2callback
      with code, state and iss -> GET it (303 to the app, session cookie set) -> GET
      that redirect's target (the app's page, /), as a browser does; then, untimed,
      /auth/userinfo must answer 200 with alice's email;
    * native: plain ``streamlit run`` (Authlib installed): the same, starting at what
      st.login() opens, /auth/login?provider=<token> (the token made by
      ``streamlit.auth_util.encode_provider_token("default")`` with the app's
      cookie_secret), and ending at its /oauth2callback's redirect plus one GET / (native
      has no /auth/userinfo; its signed ``_streamlit_user`` cookie is checked for alice's
      email afterwards, untimed).

    Both make the same 10 timed HTTP requests (1 login, 7 at the OP, 1 callback, 1 final:
    the page the callback redirects to). Before 2026-11-30 ours' final request was
    /auth/userinfo (timed); it is now checked untimed, as native's cookie is.
    Target: ours/native <= 0.8 of the median round trip.

How
    * both sides share one OP process (both apps' redirect URIs registered exactly), each
      side has its own server, all on free ports,
      all started by this script and stopped (process-group kill) at the end; the OPs are
      addressed as ``localhost``, the apps as 127.0.0.1: two hosts, so (as in any
      deployment) the browser sends neither app's cookies to its OP;
    * every round trip uses a fresh requests.Session (a new browser: no OP session, so
      the OP shows its login and consent forms every time) and a fresh TCP connection;
    * native needs Authlib (``streamlit[auth]``; on 1.67 also httpx): they are installed
      with pip into a folder of their own (``/tmp/stauth-bench-auth-<generation>``, once)
      and put on the native server's PYTHONPATH only; the environments are not changed,
      and ours runs without them;
    * one untimed warm-up round trip per side (discovery and JWKS caches), then ``-n``
      round trips per side, interleaved and in ABBA order;
    * CPU used by other processes during each pair of round trips is measured (all of
      ours, servers and OPs included, subtracted); a pair where it exceeds
      ``--disturbed`` % of a CPU is flagged, re-run once, and left out of the medians
      when each side keeps enough undisturbed round trips; before each pair the script
      waits (briefly, within a time budget) for other processes to be quiet;
    * where our time goes: the client-side time of each step (our /auth/login, the 7 OP
      requests, our callback, the final request) for both sides; then (``--no-where``
      to skip) both servers are restarted under scripts/bench_apps/timed_launch.py,
      which times every outbound ``requests`` call, and a few more round trips show how
      much of each callback is spent waiting for the OP (token, userinfo, JWKS,
      discovery) and how much is the server's own work. Those instrumented round trips
      are not part of the headline numbers.

Generations
    ``--generation st156|st167|both`` (default both): both servers (ours and native) run on
    Streamlit 1.56 (this interpreter's environment, Tornado) or on 1.67 (``.venv-st167``,
    Starlette/uvicorn), the same version on both sides, against the same OP code; "both"
    runs the script once per generation, one after the other, and ends with a table of
    both. The instrumented phase patches Tornado's RequestHandler, so it runs on st156
    only.

The last line printed (per generation) is ``login round trip ratio ours/native=R (median Xms vs Yms)``.

Usage: ``python3 scripts/bench_login.py [--generation both] [-n 15] [--quick] [--no-where]``
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock
from urllib.parse import urljoin, urlsplit

from _benchlib import (
    BENCH_APPS,
    COMMON_FLAGS,
    HOST,
    REPO_DIR,
    OthersMeter,
    add_generation_argument,
    argv_without_generation,
    current_generation,
    emit_result,
    generation_console_script,
    generation_python,
    run_generations,
    use_generation,
    exit_on_sigterm,
    free_port,
    median,
    ratio_interval,
    spawn,
    stop_group,
    tail,
    wait_healthy,
    wait_quiet,
)

APP = BENCH_APPS / "hi.py"
LAUNCHER = BENCH_APPS / "timed_launch.py"
OP_DIR = REPO_DIR / "tests" / "op"
SECRET = "a-bench-cookie-secret-of-enough-length-0123456789"
CLIENT_ID = "streamlit-test"
CLIENT_SECRET = "streamlit-test-secret"
USER, EMAIL = "alice", "alice@example.org"
KINDS = ("ours", "native")
STEPS = ("login", "op", "callback", "final")
STEP_LABELS = {
    "login": "app /auth/login",
    "op": "OP (7 requests)",
    "callback": "app /oauth2callback",
    "final": "final request",
}
TIMEOUT = 15


# --- set-up -------------------------------------------------------------------------------


#: What native st.login needs beyond Streamlit's own dependencies (``streamlit[auth]``),
#: per generation; installed with ``--no-deps`` (their dependencies are already there).
AUTH_EXTRA = {"st156": ("Authlib>=1.3.2",), "st167": ("Authlib>=1.3.2", "joserfc", "httpx>=0.24.1", "httpcore")}
#: The OP's host name: loopback, but not the app's (see Side.op_url).
OP_HOST = "localhost"

#: PYTHONPATH additions of the native server (set by ensure_authlib).
NATIVE_ENV: dict[str, str] = {}


def ensure_authlib() -> str:
    """Authlib (and on 1.67 httpx) for native st.login, in a folder of their own put on the
    native server's PYTHONPATH (and this process's sys.path, for the provider token)."""
    generation = current_generation()
    python = generation_python(generation)
    target = Path(tempfile.gettempdir()) / f"stauth-bench-auth-{generation}"
    check = ("import sys; sys.path.insert(0, sys.argv[1]); from streamlit.auth_util import is_authlib_installed; "
             "import authlib, joserfc; assert is_authlib_installed(); print(authlib.__version__)")
    done = subprocess.run([python, "-c", check, str(target)], capture_output=True, text=True, check=False)
    how = "already there"
    if done.returncode != 0:
        print(f"installing {' '.join(AUTH_EXTRA[generation])} into {target} (native st.login needs them)", flush=True)
        subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
                        *AUTH_EXTRA[generation]], check=True)
        done = subprocess.run([python, "-c", check, str(target)], capture_output=True, text=True, check=True)
        how = "installed by this script"
    NATIVE_ENV["PYTHONPATH"] = os.pathsep.join(filter(None, [str(target), os.environ.get("PYTHONPATH")]))
    harness_target = Path(tempfile.gettempdir()) / "stauth-bench-auth-st156"
    if generation != "st156" and not harness_target.is_dir():  # this interpreter signs the provider token
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                        str(harness_target), *AUTH_EXTRA["st156"]], check=True)
    sys.path.insert(0, str(harness_target if generation != "st156" else target))
    return f"native: Authlib {done.stdout.strip()} from {target} ({how}; on its PYTHONPATH only)"


@dataclass
class Side:
    kind: str
    app_port: int
    op_port: int
    app_dir: Path
    log_dir: Path
    op_proc: subprocess.Popen[bytes] | None = None
    app_proc: subprocess.Popen[bytes] | None = None
    outbound_log: Path | None = None

    @property
    def app_url(self) -> str:
        return f"http://{HOST}:{self.app_port}"

    @property
    def op_url(self) -> str:
        # Another host name than the app's: cookies are per host, not per port, so with
        # both on 127.0.0.1 the client would send the app's cookies (ours: the sealed login
        # cookie) with every OP request, which no deployment does (the OP is another site).
        return f"http://{OP_HOST}:{self.op_port}"

    def pids(self) -> list[int]:
        return [p.pid for p in (self.op_proc, self.app_proc) if p is not None]


def write_app(side: Side) -> None:
    side.app_dir.mkdir(parents=True)
    shutil.copy(APP, side.app_dir / "app.py")
    (side.app_dir / ".streamlit").mkdir()
    (side.app_dir / ".streamlit" / "secrets.toml").write_text(f"""\
[auth]
redirect_uri = "{side.app_url}/oauth2callback"
cookie_secret = "{SECRET}"
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
server_metadata_url = "{side.op_url}/.well-known/openid-configuration"
""")


def start_op(sides: list[Side]) -> None:
    """One OP process for every side (same port, each app's redirect URI registered): both
    sides of the comparison meet the same OP, warmed up alike by the interleaved trips."""
    node = shutil.which("node")
    if node is None or not (OP_DIR / "node_modules" / "oidc-provider").is_dir():
        raise SystemExit("error: the OP needs Node and `npm ci` in tests/op (scripts/setup-test-env.sh does both)")
    first = sides[0]
    proc = spawn([node, "op.mjs"], first.log_dir / "op.log", cwd=OP_DIR,
                 env={"OP_PORT": str(first.op_port), "RP_BASE": first.app_url, "OP_ISSUER": first.op_url,
                      "RP_MORE_BASES": " ".join(side.app_url for side in sides[1:]),
                      "OP_CLIENT_ID": CLIENT_ID, "OP_CLIENT_SECRET": CLIENT_SECRET})
    for side in sides:
        side.op_proc = proc


def app_command(side: Side, timed: bool) -> list[str]:
    flags = [*COMMON_FLAGS, "--server.port", str(side.app_port), "--server.fileWatcherType", "none"]
    if timed:
        name = "streamlit-auth" if side.kind == "ours" else "streamlit"
        return [sys.executable, str(LAUNCHER), name, "run", "app.py", *flags]
    if side.kind == "ours":
        return [generation_console_script("streamlit-auth"), "run", "app.py", *flags]
    return [generation_console_script("streamlit"), "run", "app.py", *flags]


def start_app(side: Side, timed: bool = False) -> None:
    env = dict(NATIVE_ENV) if side.kind == "native" else {}
    if timed:
        side.outbound_log = side.log_dir / f"outbound-{side.kind}.log"
        side.outbound_log.write_text("")
        env["BENCH_OUTBOUND_LOG"] = str(side.outbound_log)
    label = f"app-{side.kind}{'-timed' if timed else ''}"
    side.app_proc = spawn(app_command(side, timed), side.log_dir / f"{label}.log", cwd=side.app_dir, env=env)


def wait_op(side: Side, timeout: float = 30) -> None:
    import requests

    deadline = time.perf_counter() + timeout
    while True:
        assert side.op_proc is not None
        if side.op_proc.poll() is not None:
            raise RuntimeError(f"the OP exited:\n{tail(side.log_dir / 'op.log')}")
        try:
            if requests.get(f"{side.op_url}/.well-known/openid-configuration", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        if time.perf_counter() > deadline:
            raise RuntimeError(f"the {side.kind} OP did not start")
        time.sleep(0.05)


# --- one round trip -------------------------------------------------------------------------


@dataclass
class Trip:
    kind: str
    total: float = 0.0
    steps: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STEPS, 0.0))
    requests: int = 0
    op_requests: int = 0
    others: float = 0.0
    #: step -> [(kind, what, ms)] from timed_launch.py's log (instrumented phase only)
    outbound: dict[str, list[tuple[str, str, float]]] = field(default_factory=dict)

    def disturbed(self, threshold: float) -> bool:
        return self.others > threshold


def provider_token() -> str:
    """What native st.login() puts in its /auth/login URL (a 2-minute HS256 token)."""
    import warnings

    import streamlit.auth_util as auth_util

    with warnings.catch_warnings(), mock.patch.object(auth_util, "get_signing_secret", return_value=SECRET):
        warnings.simplefilter("ignore")  # Authlib's deprecation warning for authlib.jose
        return auth_util.encode_provider_token("default")


_FORM = re.compile(r"<form\b[^>]*\baction=\"([^\"]+)\"", re.I)


def round_trip(side: Side) -> Trip:
    """One sign-in, as a new browser would do it; raises when anything is off."""
    import requests

    trip = Trip(side.kind)
    start = f"{side.app_url}/auth/login" + (f"?provider={provider_token()}" if side.kind == "native" else "")
    session = requests.Session()

    intervals: list[tuple[str, float, float]] = []  # (step, unix start, unix end)
    log_offset = side.outbound_log.stat().st_size if side.outbound_log is not None else 0

    def call(step: str, method: str, url: str, data: dict[str, str] | None = None) -> requests.Response:
        wall0 = time.time()
        t0 = time.perf_counter()
        response = session.request(method, url, data=data, allow_redirects=False, timeout=TIMEOUT)
        trip.steps[step] += time.perf_counter() - t0
        intervals.append((step, wall0, time.time()))
        trip.requests += 1
        trip.op_requests += step == "op"
        return response

    started = time.perf_counter()
    response = call("login", "GET", start)
    if response.status_code not in (302, 303) or not response.headers.get("Location", "").startswith(side.op_url):
        raise RuntimeError(f"{side.kind} /auth/login: HTTP {response.status_code} -> {response.headers.get('Location')}")
    callback = None
    for _ in range(12):
        location = response.headers.get("Location")
        if response.status_code in (302, 303) and location:
            target = urljoin(response.url, location)
            if target.startswith(side.app_url + "/"):
                callback = target
                break
            response = call("op", "GET", target)
            continue
        if response.status_code != 200:
            raise RuntimeError(f"{side.kind}: OP answered HTTP {response.status_code} at {response.url}")
        form = _FORM.search(response.text)
        if not form:
            raise RuntimeError(f"{side.kind}: no form at {response.url}")
        action = urljoin(response.url, html.unescape(form.group(1)))
        if 'name="login"' in response.text:
            data = {"prompt": "login", "login": USER, "password": "x"}
        else:
            data = {"prompt": "consent"}
        response = call("op", "POST", action, data)
    if callback is None or urlsplit(callback).path != "/oauth2callback":
        raise RuntimeError(f"{side.kind}: the OP did not send the browser back to /oauth2callback: {callback}")
    query = dict(part.split("=", 1) for part in urlsplit(callback).query.split("&"))
    if not {"code", "state", "iss"} <= set(query):
        raise RuntimeError(f"{side.kind}: callback without code/state/iss: {callback}")
    response = call("callback", "GET", callback)
    if response.status_code not in (302, 303):
        raise RuntimeError(f"{side.kind} /oauth2callback: HTTP {response.status_code}: {response.text[:300]}")
    final = call("final", "GET", urljoin(response.url, response.headers["Location"]))
    trip.total = time.perf_counter() - started

    if side.outbound_log is not None:
        time.sleep(0.05)  # the server logs a handler once its response is written
        trip.outbound = attribute_events(side.outbound_log, log_offset, intervals)
    if final.status_code != 200:
        raise RuntimeError(f"{side.kind}: final request HTTP {final.status_code}: {final.text[:300]}")
    if side.kind == "ours":
        body = session.get(f"{side.app_url}/auth/userinfo", timeout=TIMEOUT).json()
        if body.get("email") != EMAIL or not body.get("is_logged_in"):
            raise RuntimeError(f"ours: /auth/userinfo says {body}")
    else:
        check_native_cookie(session)
    return trip


#: Which step of a round trip a server's handler path belongs to.
HANDLER_STEPS = {"/auth/login": "login", "/oauth2callback": "callback", "/": "final"}


def attribute_events(log: Path, offset: int, intervals: list[tuple[str, float, float]]
                     ) -> dict[str, list[tuple[str, str, float]]]:
    """timed_launch.py's log lines of one round trip, by step: a handler by its path, an
    outbound call or complete_login by the client-side request it happened in."""
    with open(log) as handle:
        handle.seek(offset)
        lines = [line.split() for line in handle.read().splitlines() if line.strip()]
    events: dict[str, list[tuple[str, str, float]]] = {}
    for stamp, value, kind, method, path in lines:
        if kind == "handler":
            step = HANDLER_STEPS.get(urlsplit(path).path)
        else:
            step = next((name for name, start, end in intervals if start <= float(stamp) <= end), None)
        if step is not None:
            events.setdefault(step, []).append((kind, f"{method} {path}", float(value)))
    return events


def check_native_cookie(session: object) -> None:
    """Native's signed ``_streamlit_user`` cookie must name alice (untimed; Tornado's
    signed value on 1.56, itsdangerous on 1.67's Starlette server)."""
    import tornado.web

    jar = session.cookies  # type: ignore[attr-defined]
    raw = next((c.value for c in jar if c.name == "_streamlit_user"), None)
    if raw is None:
        raise RuntimeError(f"native: no _streamlit_user cookie after the callback ({[c.name for c in jar]})")
    if current_generation() == "st156":  # Tornado's signed cookie
        value = tornado.web.decode_signed_value(SECRET, "_streamlit_user", raw.strip('"'))
    else:  # Starlette server (1.57+): itsdangerous, the cookie name as salt
        from itsdangerous import BadSignature, URLSafeTimedSerializer

        try:
            value = URLSafeTimedSerializer(SECRET, salt="_streamlit_user").loads(raw.strip('"'))
        except BadSignature:
            value = None
    user = json.loads(value) if value else {}
    if user.get("email") != EMAIL or not user.get("is_logged_in"):
        raise RuntimeError(f"native: _streamlit_user says {user}")


# --- reporting -----------------------------------------------------------------------------


def ms(seconds: float) -> float:
    return seconds * 1000


def report_steps(kept: dict[str, list[Trip]]) -> None:
    print("\nwhere the time goes, client side (median ms per step over the kept round trips):")
    print(f"  {'step':<22} {'ours':>8} {'native':>8} {'ours-native':>12}")
    for step in STEPS:
        values = {kind: median([ms(t.steps[step]) for t in kept[kind]]) for kind in KINDS}
        label = STEP_LABELS[step] + (" (GET /, the callback's redirect)" if step == "final" else "")
        print(f"  {label:<22} {values['ours']:8.1f} {values['native']:8.1f} {values['ours'] - values['native']:+12.1f}")
    totals = {kind: median([ms(t.total) for t in kept[kind]]) for kind in KINDS}
    print(f"  {'round trip':<22} {totals['ours']:8.1f} {totals['native']:8.1f} {totals['ours'] - totals['native']:+12.1f}")
    apps = {kind: median([ms(t.total - t.steps["op"]) for t in kept[kind]]) for kind in KINDS}
    print(f"  {'all but the OP steps':<22} {apps['ours']:8.1f} {apps['native']:8.1f} {apps['ours'] - apps['native']:+12.1f}")


def report_outbound(trips: dict[str, list[Trip]]) -> None:
    print("\nwhere a request's time goes, instrumented servers (scripts/bench_apps/timed_launch.py; median ms")
    print("over these round trips, not part of the headline). client = as seen by this script; handler =")
    print("the server's RequestHandler, start to response written; OP calls = its outbound requests calls")
    print("(HTTP client work included); own = handler - OP calls; client+HTTP = client - handler:")
    print(f"  {'side':<6} {'request':<20} {'client':>6} {'handler':>7} {'OP calls':>8} {'own':>6} {'client+HTTP':>11}  calls")
    for kind in KINDS:
        rows = trips[kind]
        for step in ("login", "callback", "final"):
            observed, handler, outside, own, login = [], [], [], [], []
            calls: dict[str, list[float]] = {}
            for t in rows:
                events = t.outbound.get(step, [])
                handled = sum(v for k, _, v in events if k == "handler")
                out = sum(v for k, _, v in events if k == "out")
                observed.append(ms(t.steps[step]))
                handler.append(handled)
                outside.append(out)
                own.append(handled - out)
                login += [v for k, _, v in events if k == "complete_login"]
                for k, what, v in events:
                    if k == "out":
                        calls.setdefault(what, []).append(v)
            detail = ", ".join(f"{what} {median(v):.1f}" for what, v in calls.items()) or "none"
            print(f"  {kind:<6} {STEP_LABELS[step] if step != 'final' else 'final request':<20} "
                  f"{median(observed):6.1f} {median(handler):7.1f} {median(outside):8.1f} {median(own):6.1f} "
                  f"{median([o - h for o, h in zip(observed, handler)]):11.1f}  {detail}")
            if login:
                print(f"  {'':<6} {'':<20} complete_login {median(login):.1f} ms (OP calls included)")


def run_pair(sides: dict[str, Side], order: tuple[str, ...], meter: OthersMeter) -> list[Trip]:
    """One round trip per side; other processes' CPU is measured over the pair (a
    round trip alone is too short for /proc/stat's 10 ms ticks) and given to both."""
    meter.start()
    pair = [round_trip(sides[kind]) for kind in order]
    others = meter.stop()
    for trip in pair:
        trip.others = others
    return pair


def trip_line(prefix: str, trip: Trip, threshold: float) -> str:
    return (f"  {prefix:>5} {trip.kind:<6} {ms(trip.total):7.1f} ms  (login {ms(trip.steps['login']):5.1f}, "
            f"OP {ms(trip.steps['op']):6.1f}, callback {ms(trip.steps['callback']):5.1f}, "
            f"final {ms(trip.steps['final']):4.1f})  others {trip.others:3.0f}%"
            + ("  DISTURBED" if trip.disturbed(threshold) else ""))


def keep_clean(trips: list[Trip], threshold: float, minimum: int) -> tuple[list[Trip], bool]:
    clean = [t for t in trips if not t.disturbed(threshold)]
    return (clean, True) if len(clean) >= minimum else (trips, False)


# --- main ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--runs", type=int, default=None, help="timed round trips per side (15; quick: 5)")
    parser.add_argument("--quick", action="store_true", help="5 round trips per side, 3 instrumented")
    parser.add_argument("--where", type=int, default=None,
                        help="instrumented round trips per side for the callback breakdown (5; quick: 3)")
    parser.add_argument("--no-where", action="store_true", help="skip the instrumented phase")
    parser.add_argument("--disturbed", type=float, default=35.0, metavar="PCT",
                        help="a round trip is disturbed when other processes used more than PCT%% of a CPU (35)")
    parser.add_argument("--budget", type=float, default=150.0, metavar="S",
                        help="time budget for waiting out other processes and re-runs (150 s)")
    add_generation_argument(parser)
    args = parser.parse_args()
    if args.generation == "both":
        return both_generations(run_generations(__file__, argv_without_generation(), ("st156", "st167")))
    version = use_generation(args.generation)
    runs = args.runs or (5 if args.quick else 15)
    where_runs = 0 if args.no_where else (args.where or (3 if args.quick else 5))
    if args.generation != "st156" and where_runs:
        print("instrumented phase skipped: timed_launch.py patches Tornado's RequestHandler (st156 only)")
        where_runs = 0
    script_start = time.perf_counter()
    exit_on_sigterm()

    load1 = os.getloadavg()[0]
    print(f"generation {args.generation}: Streamlit {version} on both sides; "
          f"load average (1 min) at start: {load1:.2f}")
    print(ensure_authlib())
    log_dir = Path(tempfile.mkdtemp(prefix="bench_login_"))
    op_port = free_port()
    sides = {kind: Side(kind, free_port(), op_port, log_dir / kind, log_dir) for kind in KINDS}
    failed = True
    try:
        start_op(list(sides.values()))
        for side in sides.values():
            write_app(side)
            start_app(side)
        for side in sides.values():
            wait_op(side)
            assert side.app_proc is not None
            wait_healthy(side.app_proc, side.app_port, timeout=90)
        for side in sides.values():
            print(f"{side.kind:<6}: {' '.join(app_command(side, False))}  (cwd: its app folder, "
                  f"secrets in .streamlit/secrets.toml; OP: node op.mjs on port {side.op_port}, "
                  f"RP_BASE={side.app_url})")
        meter = OthersMeter(sorted({pid for side in sides.values() for pid in side.pids()}))

        for kind in KINDS:  # warm-up: discovery + JWKS caches, first-request imports
            trip = round_trip(sides[kind])
            print(f"  warm-up {kind:<6} {ms(trip.total):7.1f} ms (not counted; {trip.requests} requests, "
                  f"{trip.op_requests} at the OP)")

        trips: dict[str, list[Trip]] = {kind: [] for kind in KINDS}
        print(f"measuring: {runs} round trips per side, interleaved (ABBA); 'others' = CPU used by other "
              f"processes during each pair of round trips (disturbed above {args.disturbed:g}%)")
        for pair in range(runs):
            order = KINDS if pair % 2 == 0 else KINDS[::-1]
            slack = args.budget - (time.perf_counter() - script_start) - (runs - pair) * 1.0
            if slack > 1:
                waited, load = wait_quiet(args.disturbed / 2, min(3.0, slack / 3))
                if waited > 1:
                    print(f"  (waited {waited:.1f}s for other processes to calm down: {load:.0f}%)")
            pair_trips = run_pair(sides, order, meter)
            for trip in pair_trips:
                trips[trip.kind].append(trip)
                print(trip_line(f"{pair + 1:>2}", trip, args.disturbed))
            if pair_trips[0].disturbed(args.disturbed) and time.perf_counter() - script_start < args.budget:
                for trip in run_pair(sides, order, meter):
                    trips[trip.kind].append(trip)
                    print(trip_line("  again", trip, args.disturbed))

        outbound: dict[str, list[Trip]] = {kind: [] for kind in KINDS}
        if where_runs:
            print(f"\ninstrumented phase: both servers restarted under {LAUNCHER.name} (same ports, same OP)")
            for side in sides.values():
                assert side.app_proc is not None
                stop_group(side.app_proc)
                start_app(side, timed=True)
            for side in sides.values():
                assert side.app_proc is not None
                wait_healthy(side.app_proc, side.app_port, timeout=90)
            for kind in KINDS:
                round_trip(sides[kind])  # warm-up of the new process
            for index in range(where_runs):
                for kind in (KINDS if index % 2 == 0 else KINDS[::-1]):
                    outbound[kind].append(round_trip(sides[kind]))
        failed = False
    except BaseException:
        for name in sorted(p.name for p in log_dir.glob("*.log")):
            print(f"--- {name} ---\n{tail(log_dir / name)}", file=sys.stderr)
        raise
    finally:
        for side in sides.values():
            for proc in (side.app_proc, side.op_proc):
                if proc is not None:
                    stop_group(proc)
        if not failed:
            shutil.rmtree(log_dir, ignore_errors=True)  # kept when something failed

    minimum = max(3, runs // 2)
    kept: dict[str, list[Trip]] = {}
    all_clean = True
    for kind in KINDS:
        kept[kind], clean = keep_clean(trips[kind], args.disturbed, minimum)
        all_clean &= clean
    print()
    print(f"{'side':<7} {'median':>8} {'min':>7} {'max':>7} {'kept':>5}  (ms per round trip)")
    for kind in KINDS:
        values = [ms(t.total) for t in kept[kind]]
        print(f"{kind:<7} {median(values):8.1f} {min(values):7.1f} {max(values):7.1f} {len(values):>5}")
    disturbed = sum(t.disturbed(args.disturbed) for rows in trips.values() for t in rows)
    if disturbed:
        print(f"note: {disturbed} round trip(s) were disturbed by other processes"
              + ("" if all_clean else "; too few clean ones on a side, so all were used (NOISY)"))
    report_steps(kept)
    print("  both round trips end with GET / (the callback's redirect); then, untimed, ours' /auth/userinfo")
    print("  must name alice and native's signed cookie must hold her email.")
    if where_runs:
        report_outbound(outbound)

    totals = {kind: [ms(t.total) for t in kept[kind]] for kind in KINDS}
    ours, native = median(totals["ours"]), median(totals["native"])
    ratio = ours / native
    low, high = ratio_interval(totals["ours"], totals["native"])
    apps = {kind: [ms(t.total - t.steps["op"]) for t in kept[kind]] for kind in KINDS}
    app_ratio = median(apps["ours"]) / median(apps["native"])
    app_low, app_high = ratio_interval(apps["ours"], apps["native"])
    print(f"\nratio ours/native of the medians: round trip {ratio:.3f} (95% bootstrap interval {low:.2f}..{high:.2f}); "
          f"without the 7 OP steps, identical on both sides, {app_ratio:.3f} ({app_low:.2f}..{app_high:.2f})")
    print(f"target ours/native <= 0.8: {'ok' if ratio <= 0.8 else 'ABOVE 0.8'}; "
          f"total time {time.perf_counter() - script_start:.0f}s")
    print(f"login round trip ratio ours/native={ratio:.2f} (median {ours:.1f}ms vs {native:.1f}ms, n={runs})"
          + ("" if all_clean else " (NOISY: other processes disturbed these runs, re-run on a quiet machine)"))
    emit_result({
        "generation": args.generation, "streamlit": version, "load1_start": load1, "clean": all_clean,
        "disturbed": disturbed, "trips": sum(len(rows) for rows in trips.values()), "n": runs,
        "ours": ours, "native": native, "ratio": ratio, "low": low, "high": high,
        "app_ours": median(apps["ours"]), "app_native": median(apps["native"]), "app_ratio": app_ratio,
        "min": {kind: min(totals[kind]) for kind in KINDS}, "max": {kind: max(totals[kind]) for kind in KINDS},
        "steps": {kind: {step: median([ms(t.steps[step]) for t in kept[kind]]) for step in STEPS} for kind in KINDS},
    })
    return 0


def both_generations(results: dict[str, dict | None]) -> int:
    print("\n===== both generations: sign-in round trip (real OP, full code flow), ours vs native st.login "
          "of the same version, same run (medians, ms) =====")
    print(f"{'generation':<10} {'ours':>7} {'native':>7} {'ratio':>6} {'95% interval':>12} {'n':>3} "
          f"{'no-OP ours':>10} {'no-OP native':>12} {'ratio':>6}  ours login/callback/final vs native")
    failed = False
    for generation, r in results.items():
        if r is None:
            print(f"{generation:<10} FAILED (see its output above)")
            failed = True
            continue
        steps = " vs ".join("/".join(f"{r['steps'][kind][step]:.1f}" for step in ("login", "callback", "final"))
                            for kind in KINDS)
        print(f"{generation:<10} {r['ours']:7.1f} {r['native']:7.1f} {r['ratio']:6.3f} "
              f"{r['low']:5.2f}..{r['high']:<5.2f} {r['n']:>3} {r['app_ours']:10.1f} {r['app_native']:12.1f} "
              f"{r['app_ratio']:6.3f}  {steps}" + ("" if r["clean"] else " (NOISY)"))
        print(f"{'':<10} Streamlit {r['streamlit']}; {r['disturbed']} of {r['trips']} round trips disturbed; "
              f"min..max ours {r['min']['ours']:.0f}..{r['max']['ours']:.0f}, "
              f"native {r['min']['native']:.0f}..{r['max']['native']:.0f}")
    line = "; ".join(f"{g} ours/native={r['ratio']:.2f}" for g, r in results.items() if r is not None)
    print(f"login round trip ratios: {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
