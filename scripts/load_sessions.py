#!/usr/bin/env python3
"""Load: concurrent sign-ins through a real OpenID Provider and open signed-in websockets,
on one ``streamlit-auth run`` server (SQLite store), then on two replicas behind Redis.

What is measured
    * sign-in: ``--signins`` (200) browsers sign in at the same moment through the real OP
      (tests/op/op.mjs: panva's oidc-provider, its development login and consent forms,
      any login name accepted; logins are alice, bob, user-002, user-003, ...). One sign-in
      is what a browser does, without a browser: GET /auth/login?provider=default -> 302 to
      the OP -> its 303s to /interaction/<uid> -> POST the login form (login=<name>) ->
      POST the consent form -> 303 to our /oauth2callback with code, state and iss -> GET it
      (a 303 to the app and the session cookie) -> GET /auth/userinfo, which must answer 200
      with that user's email and id. Timed from the first request to the userinfo answer
      (before it, untimed, the browser loads the app's page "/" once, as a user does before
      clicking "sign in": that gives it Streamlit's XSRF cookie like a real browser);
    * page load: ``--tabs`` (500) websocket sessions, tab j belonging to user j mod
      ``--signins``, opened with at most ``--ws-concurrency`` (50) handshakes in flight and
      all kept open: a Python client speaking Streamlit's protocol (Tornado's websocket
      client, the browser's Cookie header and the page's Origin) sends the ``rerun_script``
      BackMsg and reads ForwardMsgs until ``script_finished``. Timed from
      ``websocket_connect()`` to ``script_finished``;
    * identity: the app (scripts/load_apps/whoami.py) writes ``whoami email=.. sub=.. id=..``
      from ``st.user`` and from our server's own registry (``sa.user.id``); each tab checks
      that the line names its own user (email ``<login>@example.org``, sub ``<login>``, id
      ``<OP issuer>|<login>``). Another user's identity is a MIX-UP; an anonymous line
      where a signed-in one was expected is an error;
    * errors: every sign-in or tab that did not end as expected (HTTP status, timeout,
      closed websocket, missing identity), counted;
    * memory per signed-in session over plain Streamlit: the resident set size (VmRSS,
      summed over the server's process tree) of the ``streamlit-auth run`` server with N
      open signed-in tabs, and of a plain ``streamlit run`` of the same app, started in the
      same run, with N open anonymous tabs. Reported both as the raw difference / N (which
      includes the fixed cost of our imported sign-in stack, spread over N) and as the
      marginal difference: ((ours with N - ours before the load) - (plain with N - plain
      before the load)) / N, the cost each added signed-in session has over an anonymous
      plain one. Target: <= 10 KB (judged on the marginal figure).

Phases
    1. one server: OP, ``streamlit-auth run`` with the default SQLite store, plain
       ``streamlit run``; sign-ins, tabs on ours, the same number of tabs on plain;
    2. two replicas of ``streamlit-auth run`` sharing one Redis (``[auth.store] url =
       "redis://..."``; a throwaway redis-server, as in tests/e2e/redis_server.py). Sign-in i
       goes to replica i mod 2 (its /auth/login and its /oauth2callback: the client plays
       the load balancer, sending the OP's redirect to that replica), and its userinfo check
       and all its tabs go to the OTHER replica: every session is opened on a replica that
       did not sign it in.

The OP is tests/op/op.mjs unchanged, started with scripts/load_apps/op_capacity.mjs preloaded
(``node --import``): oidc-provider's development in-memory adapter keeps about 1000 objects,
and 200 sign-ins in flight store more, so without it the OP itself evicts authorization codes
before they are redeemed and answers ``invalid_grant`` (seen at full size: 5 of 200).

Everything runs on 127.0.0.1 on free ports, is started by this script and stopped at the
end (process-group kill); every request and handshake has a timeout, every phase a bound.

Usage: ``python3 scripts/load_sessions.py [--signins 200] [--tabs 500] [--quick]``
(``--quick``: 10 sign-ins, 20 tabs). Exit status 1 when any error or mix-up was counted.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import http.cookiejar
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

from _benchlib import (
    COMMON_FLAGS,
    HOST,
    SCRIPTS_DIR,
    console_script,
    exit_on_sigterm,
    free_port,
    percentile,
    process_tree,
    spawn,
    stop_group,
    tail,
    wait_for_exit,
    wait_healthy,
)
from bench_login import _FORM, CLIENT_ID, CLIENT_SECRET, OP_DIR, SECRET

APP = SCRIPTS_DIR / "load_apps" / "whoami.py"
#: Raises the OP's in-memory adapter capacity (see that file): 200 sign-ins in flight need it.
OP_CAPACITY_HOOK = SCRIPTS_DIR / "load_apps" / "op_capacity.mjs"
PROVIDER = "default"
#: Seconds for one HTTP request / one websocket step; a whole sign-in or tab is bounded too.
REQUEST_TIMEOUT = 60.0
SIGNIN_BOUND = 180.0
TAB_BOUND = 120.0
PHASE_BOUND = 900.0


def login_name(index: int) -> str:
    """alice, bob, user-002, user-003, ... (op.mjs accepts any login; alice and bob are its own)."""
    return ("alice", "bob")[index] if index < 2 else f"user-{index:03d}"


@dataclass(frozen=True)
class Identity:
    email: str | None
    sub: str | None
    id: str | None

    @classmethod
    def of(cls, login: str, issuer: str) -> Identity:
        """What op.mjs gives ``login``: email <login>@example.org, sub <login>."""
        return cls(f"{login}@example.org", login, f"{issuer}|{login}")

    @classmethod
    def parse(cls, line: str) -> Identity | None:
        """From the app's ``whoami email=.. sub=.. id=..`` line (``None`` values: anonymous)."""
        if not line.startswith("whoami "):
            return None
        fields = dict(part.split("=", 1) for part in line[len("whoami "):].split(" ") if "=" in part)
        values = [None if fields.get(k) in (None, "None") else fields[k] for k in ("email", "sub", "id")]
        return cls(*values)

    @property
    def anonymous(self) -> bool:
        return self.email is None and self.sub is None and self.id is None


# --- an HTTP client with a browser's cookie jar ---------------------------------------------


class _Headers:
    """What ``http.cookiejar`` reads from a response (``info().get_all``)."""

    def __init__(self, headers: Any):
        self._headers = headers

    def get_all(self, name: str, default: Any = None) -> Any:
        return self._headers.get_list(name) or default


class _Response:
    def __init__(self, headers: Any):
        self._info = _Headers(headers)

    def info(self) -> _Headers:
        return self._info


class Browser:
    """One browser: a cookie jar with a browser's rules (cookies per host, not per port,
    paths and expiry respected: the standard library's ``http.cookiejar``) over Tornado's
    asynchronous HTTP client. Redirects are not followed: callers walk them."""

    def __init__(self, timeout: float = REQUEST_TIMEOUT):
        self.jar = http.cookiejar.CookieJar()
        self.timeout = timeout

    def cookie_header(self, url: str) -> str:
        request = urllib.request.Request(url)
        self.jar.add_cookie_header(request)
        return request.get_header("Cookie") or request.unredirected_hdrs.get("Cookie", "")

    def cookie_names(self) -> set[str]:
        return {c.name for c in self.jar}

    async def fetch(self, method: str, url: str, data: dict[str, str] | None = None,
                    headers: dict[str, str] | None = None) -> Any:
        from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

        sent = dict(headers or {})
        cookie = self.cookie_header(url)
        if cookie:
            sent["Cookie"] = cookie
        body = urlencode(data) if data is not None else None
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        request = HTTPRequest(url, method=method, headers=sent, body=body, follow_redirects=False,
                              connect_timeout=self.timeout, request_timeout=self.timeout)
        try:
            response = await AsyncHTTPClient().fetch(request, raise_error=False)
        except (HTTPClientError, OSError) as exc:  # 599s: stream closed, timeout, refused
            raise ConnectionError(f"{method} {url.split('?')[0]}: {type(exc).__name__}: {exc}") from None
        if response.code == 599:  # no HTTP answer at all (refused, reset, timed out)
            raise ConnectionError(f"{method} {url.split('?')[0]}: {type(response.error).__name__}: {response.error}")
        self.jar.extract_cookies(_Response(response.headers), urllib.request.Request(url, method=method))
        return response


def configure_http_client(max_clients: int = 2000) -> None:
    """Tornado's client queues requests beyond ``max_clients`` (10 by default)."""
    from tornado.httpclient import AsyncHTTPClient

    AsyncHTTPClient.configure(None, max_clients=max_clients)


def raise_open_files_limit(wanted: int = 65536) -> int:
    """Raise this process's open-files soft limit (sockets) as far as allowed; the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


# --- one sign-in ----------------------------------------------------------------------------


class Failed(Exception):
    """A step did not answer as a browser expects: ``status`` and an excerpt of the page."""

    def __init__(self, step: str, status: int | None, excerpt: str):
        super().__init__(f"{step}: HTTP {status}: {excerpt}" if status else f"{step}: {excerpt}")
        self.step, self.status, self.excerpt = step, status, excerpt


def excerpt(body: bytes | str | None, limit: int = 160) -> str:
    """A short, readable excerpt of a page or JSON body (tags and blank runs removed)."""
    import re

    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    text = re.sub(r"<(script|style|title)\b.*?</\1>", " ", text, flags=re.S | re.I)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class SignIn:
    """A sign-in's browser, outcome and timing."""

    login: str
    browser: Browser
    replica: int = 0
    ok: bool = False
    seconds: float = 0.0
    error: str | None = None
    identity: Identity | None = None
    #: status and page excerpt of the last answer (the callback's, or the failing step's)
    status: int | None = None
    page: str = ""


async def reach_callback(browser: Browser, login_url: str, login: str, redirect_uri: str) -> str:
    """From /auth/login through the OP's forms to the callback URL the OP sends the browser
    to (not requested yet). Raises ``Failed`` or ``ConnectionError``."""
    response = await browser.fetch("GET", login_url)
    if response.code not in (302, 303):
        raise Failed("/auth/login", response.code, excerpt(response.body))
    for _ in range(12):
        location = response.headers.get("Location")
        if response.code in (302, 303) and location:
            target = urljoin(response.effective_url, location)
            if target.split("?")[0] == redirect_uri:
                return target
            response = await browser.fetch("GET", target)
            continue
        if response.code != 200:
            raise Failed("OP", response.code, excerpt(response.body))
        page = response.body.decode("utf-8", "replace")
        form = _FORM.search(page)
        if not form:
            raise Failed("OP", response.code, "no form: " + excerpt(page))
        action = urljoin(response.effective_url, html.unescape(form.group(1)))
        data = ({"prompt": "login", "login": login, "password": "any-password"} if 'name="login"' in page
                else {"prompt": "consent"})
        response = await browser.fetch("POST", action, data)
    raise Failed("OP", response.code, "still at the OP after 12 steps")


def on_replica(url: str, base: str) -> str:
    """``url`` with its scheme and host:port replaced by ``base``'s (the load balancer's choice)."""
    parts, target = urlsplit(url), urlsplit(base)
    return urlunsplit((target.scheme, target.netloc, parts.path, parts.query, parts.fragment))


async def finish_callback(browser: Browser, callback_url: str) -> Any:
    """GET the callback; the response (a 303 to the app on success)."""
    return await browser.fetch("GET", callback_url, headers={"Accept": "text/html"})


async def userinfo(browser: Browser, base: str) -> tuple[int, dict[str, Any] | None, bytes]:
    response = await browser.fetch("GET", f"{base}/auth/userinfo", headers={"Accept": "application/json"})
    try:
        body = json.loads(response.body) if response.body else None
    except ValueError:
        body = None
    return response.code, body if isinstance(body, dict) else None, response.body or b""


def session_cookie(browser: Browser) -> bool:
    return any(name.startswith(("stauth_session", "__Host-stauth_session")) for name in browser.cookie_names())


async def warm_browser(browser: Browser, app: str) -> None:
    """What a browser holds before it signs in (untimed): it loaded the app's page and its
    frontend polled ``/_stcore/health``, which sets Streamlit's XSRF cookie (as the page's
    websocket handshake does), so our server knows which browser's tabs a sign-in reaches."""
    await browser.fetch("GET", f"{app}/")
    await browser.fetch("GET", f"{app}/_stcore/health")


async def sign_in(login: str, *, app: str, redirect_uri: str, issuer: str, check: str | None = None,
                  replica: int = 0, before_callback: Callable[[], Awaitable[None]] | None = None) -> SignIn:
    """One whole sign-in, as a new browser does it, on the server at ``app`` (its login and
    its callback), checked with /auth/userinfo at ``check`` (default: ``app``). Never raises."""
    result = SignIn(login, Browser(), replica)
    started = None
    try:
        await warm_browser(result.browser, app)
        started = time.perf_counter()
        callback = await reach_callback(result.browser, f"{app}/auth/login?provider={PROVIDER}", login, redirect_uri)
        if before_callback is not None:
            await before_callback()
        response = await finish_callback(result.browser, on_replica(callback, app))
        result.status, result.page = response.code, excerpt(response.body)
        if response.code not in (302, 303):
            raise Failed("/oauth2callback", response.code, excerpt(response.body))
        code, body, raw = await userinfo(result.browser, check or app)
        if code != 200 or body is None:
            raise Failed("/auth/userinfo", code, excerpt(raw))
        result.identity = Identity(body.get("email"), str(body.get("id", "")).split("|")[-1] or None, body.get("id"))
        result.seconds = time.perf_counter() - started
        expected = Identity.of(login, issuer)
        if result.identity != expected:
            raise Failed("/auth/userinfo", code, f"MIX-UP: expected {expected}, got {result.identity}")
        result.ok = True
    except Failed as exc:
        result.error, result.status = str(exc), exc.status
        result.page = result.page or exc.excerpt
    except (ConnectionError, OSError, asyncio.TimeoutError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    if not result.ok and started is not None:
        result.seconds = time.perf_counter() - started
    return result


async def sign_in_many(logins: Sequence[str], plan: Callable[[int], dict[str, Any]], bound: float) -> list[SignIn]:
    """All at the same moment (``plan(i)`` gives sign-in i's keyword arguments); bounded."""
    tasks = [asyncio.ensure_future(sign_in(login, **plan(i))) for i, login in enumerate(logins)]
    done, pending = await asyncio.wait(tasks, timeout=bound)
    for task in pending:
        task.cancel()
    out = []
    for i, task in enumerate(tasks):
        if task in done:
            out.append(task.result())
        else:
            out.append(SignIn(logins[i], Browser(), error=f"not finished within {bound:.0f}s"))
    return out


# --- one tab (a websocket session) ----------------------------------------------------------


@dataclass
class Tab:
    """A websocket session kept open: what it saw and how long it took."""

    index: int
    base: str
    expected: Identity | None  # None: anonymous expected
    ws: Any = None
    handshake_ms: float = 0.0
    loaded_ms: float = 0.0
    seen: Identity | None = None
    error: str | None = None

    @property
    def mixed_up(self) -> bool:
        """It shows a signed-in identity that is not its own user's."""
        return self.seen is not None and not self.seen.anonymous and self.seen != self.expected

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
            self.ws = None


async def open_tab(tab: Tab, cookie_header: str, timeout: float = TAB_BOUND) -> Tab:
    """Connect, rerun the script, read until ``script_finished``; leave the websocket open.

    Never raises: a failure is ``tab.error``.
    """
    import tornado.httpclient
    import tornado.websocket
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    split = urlsplit(tab.base)
    request = tornado.httpclient.HTTPRequest(
        f"ws://{split.netloc}/_stcore/stream",
        headers={"Origin": tab.base.rstrip("/"), "Cookie": cookie_header, "Sec-WebSocket-Protocol": "streamlit"},
        connect_timeout=timeout, request_timeout=timeout,
    )
    rerun = BackMsg()
    rerun.rerun_script.query_string = ""
    rerun.rerun_script.page_script_hash = ""
    started = time.perf_counter()
    deadline = started + timeout
    try:
        tab.ws = await asyncio.wait_for(tornado.websocket.websocket_connect(request), timeout)
        tab.handshake_ms = (time.perf_counter() - started) * 1000
        await tab.ws.write_message(rerun.SerializeToString(), binary=True)
        lines: list[str] = []
        while True:
            raw = await asyncio.wait_for(tab.ws.read_message(), max(0.1, deadline - time.perf_counter()))
            if raw is None:
                raise ConnectionError(f"the server closed the websocket ({tab.ws.close_code} {tab.ws.close_reason})")
            message = ForwardMsg.FromString(raw)
            kind = message.WhichOneof("type")
            if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                lines.append(message.delta.new_element.markdown.body)
            if kind == "script_finished":
                break
        tab.loaded_ms = (time.perf_counter() - started) * 1000
        tab.seen = next((found for found in map(Identity.parse, lines) if found is not None), None)
        if tab.seen is None:
            tab.error = f"no whoami line in {lines!r}"
        elif tab.mixed_up:
            tab.error = f"MIX-UP: expected {tab.expected}, saw {tab.seen}"
        elif tab.expected is not None and tab.seen != tab.expected:
            tab.error = f"expected {tab.expected}, saw {tab.seen}"
        elif tab.expected is None and not tab.seen.anonymous:
            tab.error = f"expected anonymous, saw {tab.seen}"
    except (asyncio.TimeoutError, ConnectionError, OSError, tornado.websocket.WebSocketError,
            tornado.httpclient.HTTPClientError) as exc:
        tab.error = f"{type(exc).__name__}: {exc}"
        tab.loaded_ms = (time.perf_counter() - started) * 1000
        tab.close()
    return tab


async def open_tabs(tabs: list[Tab], cookies: Callable[[Tab], str], concurrency: int, bound: float) -> list[Tab]:
    """Open every tab, at most ``concurrency`` handshakes in flight; all left open."""
    gate = asyncio.Semaphore(concurrency)

    async def one(tab: Tab) -> Tab:
        async with gate:
            return await open_tab(tab, cookies(tab))

    tasks = [asyncio.ensure_future(one(tab)) for tab in tabs]
    done, pending = await asyncio.wait(tasks, timeout=bound)
    for task in pending:
        task.cancel()
    for tab, task in zip(tabs, tasks):
        if task not in done:
            tab.error = tab.error or f"not loaded within {bound:.0f}s"
            tab.close()
    return tabs


def still_open(tabs: Sequence[Tab]) -> int:
    """How many of the tabs that loaded still have their websocket open (the server closed none)."""
    return sum(1 for t in tabs if not t.error and t.ws is not None and t.ws.protocol is not None
               and t.ws.close_code is None)


# --- processes --------------------------------------------------------------------------------


def rss_kb(pid: int) -> int:
    """Resident set size of ``pid`` and its descendants, in KB (VmRSS)."""
    total = 0
    for member in process_tree([pid]):
        try:
            with open(f"/proc/{member}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total


async def settled_rss_kb(pid: int, wait: float = 2.0, samples: int = 5) -> int:
    """RSS once the server is idle: after ``wait`` seconds, the median of a few samples."""
    await asyncio.sleep(wait)
    values = []
    for _ in range(samples):
        values.append(rss_kb(pid))
        await asyncio.sleep(0.2)
    return sorted(values)[len(values) // 2]


def secrets_toml(public: str, op_url: str, store_url: str | None = None) -> str:
    store = f'\n[auth.store]\nurl = "{store_url}"\n' if store_url else ""
    return f"""\
[auth]
redirect_uri = "{public}/oauth2callback"
cookie_secret = "{SECRET}"
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
server_metadata_url = "{op_url}/.well-known/openid-configuration"
{store}"""


def write_app(folder: Path, secrets: str | None, app: Path = APP) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(app, folder / "app.py")
    if secrets is not None:
        (folder / ".streamlit").mkdir(exist_ok=True)
        (folder / ".streamlit" / "secrets.toml").write_text(secrets)
    return folder


def server_command(kind: str, port: int) -> list[str]:
    """``streamlit-auth run`` (kind "ours") or ``streamlit run`` ("plain") of app.py."""
    name = "streamlit-auth" if kind == "ours" else "streamlit"
    return [console_script(name), "run", "app.py", *COMMON_FLAGS, "--server.port", str(port),
            "--server.fileWatcherType", "none"]


@dataclass
class Procs:
    """Processes this script started, stopped in reverse order."""

    log_dir: Path
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, cmd: Sequence[str], log_name: str, cwd: Path, env: dict[str, str] | None = None
              ) -> subprocess.Popen[bytes]:
        proc = spawn(cmd, self.log_dir / log_name, cwd=cwd, env=env)
        self.started.append(proc)
        return proc

    def start_op(self, port: int, rp_base: str, issuer: str | None = None) -> subprocess.Popen[bytes]:
        node = shutil.which("node")
        if node is None or not (OP_DIR / "node_modules" / "oidc-provider").is_dir():
            raise SystemExit("error: the OP needs Node and `npm ci` in tests/op (scripts/setup-test-env.sh)")
        env = {"OP_PORT": str(port), "RP_BASE": rp_base, "OP_CLIENT_ID": CLIENT_ID, "OP_CLIENT_SECRET": CLIENT_SECRET}
        if issuer:
            env["OP_ISSUER"] = issuer
        return self.start([node, "--import", str(OP_CAPACITY_HOOK), "op.mjs"], f"op-{port}.log", OP_DIR, env)

    def start_server(self, kind: str, port: int, folder: Path, env: dict[str, str] | None = None
                     ) -> subprocess.Popen[bytes]:
        return self.start(server_command(kind, port), f"{kind}-{port}.log", folder, env)

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        stop_group(proc)
        if proc in self.started:
            self.started.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(self.started):
            stop_group(proc)
        self.started.clear()

    def dump_logs(self) -> None:
        for name in sorted(p.name for p in self.log_dir.glob("*.log")):
            print(f"--- {name} ---\n{tail(self.log_dir / name)}", file=sys.stderr)


def wait_op(proc: subprocess.Popen[bytes], url: str, timeout: float = 30.0) -> None:
    """Until the OP's discovery answers (``url`` is its issuer)."""
    import requests

    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the OP exited with code {proc.returncode}")
        try:
            if requests.get(f"{url}/.well-known/openid-configuration", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the OP did not answer")
        time.sleep(0.05)


class Redis:
    """A throwaway redis-server (the flags of tests/e2e/redis_server.py, started with a
    handle this script can restart, stop and signal); ``persistent`` adds an append-only
    file written at every command, so a killed Redis comes back with its data."""

    def __init__(self, folder: Path, persistent: bool = False, port: int | None = None):
        self.folder, self.persistent = folder, persistent
        self.port = port or free_port()
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    @property
    def pid(self) -> int | None:
        try:
            return int((self.folder / "redis.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def start(self) -> None:
        server = shutil.which("redis-server")
        if server is None:
            raise SystemExit("error: redis-server is missing (apt-get install -y redis-server)")
        persistence = (["--appendonly", "yes", "--appendfsync", "always"] if self.persistent
                       else ["--appendonly", "no"])
        subprocess.run([server, "--port", str(self.port), "--bind", HOST, "--daemonize", "yes", "--save", "",
                        *persistence, "--dir", str(self.folder), "--pidfile", str(self.folder / "redis.pid"),
                        "--logfile", str(self.folder / "redis.log")], check=True, capture_output=True)
        for _ in range(250):
            if self.ping():
                return
            time.sleep(0.02)
        raise RuntimeError("redis-server did not answer PING")

    def ping(self) -> bool:
        out = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True)
        return out.stdout.strip() == "PONG"

    def count(self, pattern: str = "stauth:s:*") -> int:
        out = subprocess.run(["redis-cli", "-p", str(self.port), "--scan", "--pattern", pattern],
                             capture_output=True, text=True, timeout=10)
        return len(out.stdout.split())

    def stop(self) -> None:
        import signal as signals

        pid = self.pid
        if pid is not None:
            try:
                os.kill(pid, signals.SIGCONT)  # a stopped Redis cannot shut down
            except ProcessLookupError:
                return
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"], capture_output=True, timeout=10)
        if pid is not None:
            wait_for_exit(pid, timeout=2.0)


# --- the phases -------------------------------------------------------------------------------


@dataclass
class PhaseResult:
    name: str
    signins: list[SignIn]
    tabs: list[Tab]
    open_after: int
    wall: float
    memory: dict[str, Any] = field(default_factory=dict)

    @property
    def signin_errors(self) -> list[SignIn]:
        return [s for s in self.signins if not s.ok]

    @property
    def tab_errors(self) -> list[Tab]:
        return [t for t in self.tabs if t.error]

    @property
    def mixups(self) -> int:
        return (sum(1 for t in self.tabs if t.mixed_up)
                + sum(1 for s in self.signins if s.error and "MIX-UP" in s.error))


def ms_stats(values: Sequence[float]) -> str:
    if not values:
        return "p50 -, p99 -, max - (none)"
    return (f"p50 {percentile(values, 50):7.0f}  p99 {percentile(values, 99):7.0f}  "
            f"max {max(values):7.0f}  (n={len(values)})")


async def load_tabs(signins: Sequence[SignIn], count: int, base_for: Callable[[SignIn], str], issuer: str,
                    concurrency: int) -> list[Tab]:
    """``count`` signed-in tabs: tab j is user j mod len(signins) (only signed-in users)."""
    usable = [s for s in signins if s.ok]
    if not usable:
        return []
    tabs = []
    for j in range(count):
        owner = usable[j % len(usable)]
        tab = Tab(j, base_for(owner), Identity.of(owner.login, issuer))
        tab.owner = owner  # type: ignore[attr-defined]
        tabs.append(tab)
    return await open_tabs(tabs, lambda t: t.owner.browser.cookie_header(t.base + "/_stcore/stream"),  # type: ignore[attr-defined]
                           concurrency, PHASE_BOUND)


async def control_mixup(signins: Sequence[SignIn], app: str, issuer: str) -> None:
    """Negative control: a tab opened with user A's cookie but told to expect user B must be
    flagged as a mix-up, or the detector proves nothing."""
    usable = [s for s in signins if s.ok]
    if len(usable) < 2:
        return
    tab = Tab(-1, app, Identity.of(usable[1].login, issuer))
    await open_tab(tab, usable[0].browser.cookie_header(f"{app}/_stcore/stream"))
    tab.close()
    if not tab.mixed_up:
        raise RuntimeError(f"the mix-up detector did not flag a planted mix-up: {tab.seen}, {tab.error}")
    print(f"  mix-up detector control: a tab with {usable[0].login}'s cookie told to expect {usable[1].login} "
          "was flagged (not counted)")


def print_errors(label: str, errors: Sequence[Any], limit: int = 5) -> None:
    for item in errors[:limit]:
        print(f"    {label} error: {item.error}")
    if len(errors) > limit:
        print(f"    ... and {len(errors) - limit} more")


async def phase_single(args: argparse.Namespace, procs: Procs, work: Path) -> PhaseResult:
    """One ``streamlit-auth run`` (SQLite store) and a plain ``streamlit run`` of the same app."""
    started = time.perf_counter()
    port, plain_port, op_port = free_port(), free_port(), free_port()
    app, plain, issuer = f"http://{HOST}:{port}", f"http://{HOST}:{plain_port}", f"http://{HOST}:{op_port}"
    op = procs.start_op(op_port, app)
    ours_proc = procs.start_server("ours", port, write_app(work / "single", secrets_toml(app, issuer)))
    plain_proc = procs.start_server("plain", plain_port, write_app(work / "plain", None))
    wait_op(op, issuer)
    wait_healthy(ours_proc, port, timeout=90)
    wait_healthy(plain_proc, plain_port, timeout=90)
    print(f"  ours : {' '.join(server_command('ours', port))}  (SQLite store, default path)")
    print(f"  plain: {' '.join(server_command('plain', plain_port))}")
    redirect_uri = f"{app}/oauth2callback"

    # Warm-up, untimed: discovery and JWKS caches, first imports, one tab on each server.
    warm = await sign_in("warm-up", app=app, redirect_uri=redirect_uri, issuer=issuer)
    if not warm.ok:
        raise RuntimeError(f"warm-up sign-in failed: {warm.error}")
    for tab in (Tab(-1, app, Identity.of("warm-up", issuer)), Tab(-1, plain, None)):
        cookie = warm.browser.cookie_header(app) if tab.expected else ""
        await open_tab(tab, cookie)
        if tab.error:
            raise RuntimeError(f"warm-up tab failed: {tab.error}")
        tab.close()
    ours_idle = await settled_rss_kb(ours_proc.pid)
    plain_idle = await settled_rss_kb(plain_proc.pid)

    logins = [login_name(i) for i in range(args.signins)]
    t0 = time.perf_counter()
    signins = await sign_in_many(logins, lambda i: dict(app=app, redirect_uri=redirect_uri, issuer=issuer),
                                 PHASE_BOUND)
    print(f"  {len(signins)} concurrent sign-ins in {time.perf_counter() - t0:.1f}s")
    ours_signed1 = await settled_rss_kb(ours_proc.pid)
    # A second wave of as many sign-ins: tells a one-off cost (threads, connections, caches
    # warming up) from one that grows with the number of sessions.
    t0 = time.perf_counter()
    second = await sign_in_many([login_name(args.signins + i) for i in range(args.signins)],
                                lambda i: dict(app=app, redirect_uri=redirect_uri, issuer=issuer), PHASE_BOUND)
    print(f"  a second wave of {len(second)} concurrent sign-ins in {time.perf_counter() - t0:.1f}s")
    ours_signed = await settled_rss_kb(ours_proc.pid)

    await control_mixup(signins, app, issuer)
    t0 = time.perf_counter()
    tabs = await load_tabs(signins, args.tabs, lambda s: app, issuer, args.ws_concurrency)
    print(f"  {len(tabs)} signed-in tabs opened on ours in {time.perf_counter() - t0:.1f}s")
    ours_loaded = await settled_rss_kb(ours_proc.pid)
    open_after = still_open(tabs)
    for tab in tabs:
        tab.close()

    t0 = time.perf_counter()
    plain_tabs = await open_tabs([Tab(j, plain, None) for j in range(args.tabs)], lambda t: "",
                                 args.ws_concurrency, PHASE_BOUND)
    print(f"  {len(plain_tabs)} anonymous tabs opened on plain in {time.perf_counter() - t0:.1f}s")
    plain_loaded = await settled_rss_kb(plain_proc.pid)
    plain_open = still_open(plain_tabs)
    for tab in plain_tabs:
        tab.close()
    n = max(1, args.tabs)
    memory = {
        "n": args.tabs, "ours_idle": ours_idle, "ours_signed1": ours_signed1, "ours_signed": ours_signed,
        "ours_loaded": ours_loaded, "signins": args.signins, "second": second,
        "plain_idle": plain_idle, "plain_loaded": plain_loaded,
        "raw_per_session": (ours_loaded - plain_loaded) / n,
        "tab_per_session": ((ours_loaded - ours_signed) - (plain_loaded - plain_idle)) / n,
        "marginal_per_session": ((ours_loaded - ours_idle) - (plain_loaded - plain_idle)) / n,
        "plain_per_session": (plain_loaded - plain_idle) / n,
        "plain_tabs": plain_tabs, "plain_open": plain_open,
    }
    result = PhaseResult("one server (SQLite)", signins, tabs, open_after, time.perf_counter() - started, memory)
    for proc in (ours_proc, plain_proc, op):
        if proc.poll() is not None:
            raise RuntimeError(f"a process exited during the phase (code {proc.returncode})")
        procs.stop(proc)
    return result


async def phase_replicas(args: argparse.Namespace, procs: Procs, work: Path) -> PhaseResult:
    """Two ``streamlit-auth run`` replicas on one Redis; every session opened on the other one."""
    started = time.perf_counter()
    redis = Redis(work / "redis")
    redis.start()
    try:
        ports = [free_port(), free_port()]
        op_port = free_port()
        bases = [f"http://{HOST}:{p}" for p in ports]
        issuer = f"http://{HOST}:{op_port}"
        public = bases[0]  # the registered redirect_uri; the client routes each callback to its replica
        op = procs.start_op(op_port, public)
        folder = write_app(work / "replicas", secrets_toml(public, issuer, redis.url))
        servers = [procs.start_server("ours", port, folder) for port in ports]
        wait_op(op, issuer)
        for proc, port in zip(servers, ports):
            wait_healthy(proc, port, timeout=90)
        print(f"  replicas: {' '.join(server_command('ours', ports[0]))} (and port {ports[1]}), "
              f"[auth.store] url = \"{redis.url}\"")
        redirect_uri = f"{public}/oauth2callback"
        for r in (0, 1):  # warm-up, untimed
            warm = await sign_in("warm-up", app=bases[r], redirect_uri=redirect_uri, issuer=issuer,
                                 check=bases[1 - r], replica=r)
            if not warm.ok:
                raise RuntimeError(f"warm-up sign-in on replica {r + 1} failed: {warm.error}")
        logins = [login_name(i) for i in range(args.signins)]
        t0 = time.perf_counter()
        signins = await sign_in_many(
            logins, lambda i: dict(app=bases[i % 2], redirect_uri=redirect_uri, issuer=issuer,
                                   check=bases[1 - i % 2], replica=i % 2), PHASE_BOUND)
        print(f"  {len(signins)} concurrent sign-ins (round-robin, checked on the other replica) in "
              f"{time.perf_counter() - t0:.1f}s; {redis.count()} session records in Redis")
        t0 = time.perf_counter()
        tabs = await load_tabs(signins, args.tabs, lambda s: bases[1 - s.replica], issuer, args.ws_concurrency)
        print(f"  {len(tabs)} signed-in tabs opened, each on the replica that did not sign its user in, in "
              f"{time.perf_counter() - t0:.1f}s")
        rss = [await settled_rss_kb(proc.pid) for proc in servers]
        open_after = still_open(tabs)
        for tab in tabs:
            tab.close()
        per_replica = [sum(1 for t in tabs if t.base == base and not t.error) for base in bases]
        for proc in (*servers, op):
            if proc.poll() is not None:
                raise RuntimeError(f"a process exited during the phase (code {proc.returncode})")
            procs.stop(proc)
    finally:
        redis.stop()
    return PhaseResult("two replicas (Redis)", signins, tabs, open_after, time.perf_counter() - started,
                       {"rss": rss, "per_replica": per_replica})


def report(result: PhaseResult) -> None:
    ok_signins = [s.seconds * 1000 for s in result.signins if s.ok]
    loads = [t.loaded_ms for t in result.tabs if not t.error]
    handshakes = [t.handshake_ms for t in result.tabs if not t.error]
    print(f"\n{result.name}: {len(result.signins)} sign-ins, {len(result.tabs)} tabs, wall {result.wall:.0f}s")
    print(f"  sign-in (ms, /auth/login -> userinfo 200)   {ms_stats(ok_signins)}")
    print(f"  page load (ms, connect -> script_finished)  {ms_stats(loads)}")
    print(f"  websocket handshake (ms)                    {ms_stats(handshakes)}")
    print(f"  errors: sign-in {len(result.signin_errors)}, tabs {len(result.tab_errors)}; identity mix-ups "
          f"{result.mixups}; loaded tabs still open at the end {result.open_after}/"
          f"{len(result.tabs) - len(result.tab_errors)}")
    print_errors("sign-in", result.signin_errors)
    print_errors("tab", result.tab_errors)
    memory = result.memory
    if "raw_per_session" in memory:
        mb = 1024
        second = memory["second"]
        print(f"  second wave of sign-ins (ms)                {ms_stats([s.seconds * 1000 for s in second if s.ok])}; "
              f"errors {sum(not s.ok for s in second)}")
        print(f"  memory (RSS, MB): ours idle {memory['ours_idle'] / mb:.1f}, after the sign-ins "
              f"{memory['ours_signed1'] / mb:.1f}, after the second wave {memory['ours_signed'] / mb:.1f}, "
              f"with {memory['n']} signed-in tabs {memory['ours_loaded'] / mb:.1f}; "
              f"plain idle {memory['plain_idle'] / mb:.1f}, with {memory['n']} anonymous tabs "
              f"{memory['plain_loaded'] / mb:.1f}")
        plain_loads = [t.loaded_ms for t in memory["plain_tabs"] if not t.error]
        plain_errors = [t for t in memory["plain_tabs"] if t.error]
        print(f"  plain page load (ms)                        {ms_stats(plain_loads)}; errors {len(plain_errors)}")
        print_errors("plain tab", plain_errors)
        print(f"  memory per session (KB): an anonymous tab on plain costs {memory['plain_per_session']:.1f}; "
              f"ours over plain, per signed-in session:")
        print(f"    open tab only ((ours with N tabs - ours after the sign-ins) - plain's tab cost) / N: "
              f"{memory['tab_per_session']:.1f} (target <= 10: {'ok' if memory['tab_per_session'] <= 10 else 'ABOVE'})")
        print(f"    sign-ins included ((ours with N tabs - ours before the sign-ins) - plain's tab cost) / N: "
              f"{memory['marginal_per_session']:.1f}")
        count = memory["signins"]
        print(f"    growth per sign-in: first wave {(memory['ours_signed1'] - memory['ours_idle']) / count:.1f}, "
              f"second wave {(memory['ours_signed'] - memory['ours_signed1']) / count:.1f} (a first-wave-only "
              f"growth is a one-off: threads and connections of the blocking pool, caches)")
        print(f"    raw (ours with N tabs - plain with N tabs) / N: {memory['raw_per_session']:.1f} "
              f"(includes our fixed start-up cost, {(memory['ours_idle'] - memory['plain_idle']) / 1024:.1f} MB, / N)")
    if "rss" in memory:
        print(f"  replica RSS (MB): {', '.join(f'{v / 1024:.1f}' for v in memory['rss'])}; tabs loaded per replica "
              f"{memory['per_replica']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signins", type=int, default=None, help="concurrent sign-ins (200; quick: 10)")
    parser.add_argument("--tabs", type=int, default=None, help="open signed-in websocket sessions (500; quick: 20)")
    parser.add_argument("--ws-concurrency", type=int, default=50, help="websocket handshakes in flight at most (50)")
    parser.add_argument("--quick", action="store_true", help="10 sign-ins and 20 tabs")
    parser.add_argument("--only", choices=("single", "replicas"), help="run one phase only")
    args = parser.parse_args()
    args.signins = args.signins or (10 if args.quick else 200)
    args.tabs = args.tabs or (20 if args.quick else 500)
    exit_on_sigterm()
    limit = raise_open_files_limit()
    print(f"load average (1 min) at start: {os.getloadavg()[0]:.2f}; cpus {os.cpu_count()}; open-files limit {limit}")
    print(f"sizes: {args.signins} concurrent sign-ins, {args.tabs} tabs, at most {args.ws_concurrency} handshakes "
          f"in flight")
    configure_http_client()
    work = Path(tempfile.mkdtemp(prefix="load_sessions_"))
    procs = Procs(work)
    results: list[PhaseResult] = []
    script_start = time.perf_counter()
    failed = True

    async def run() -> None:
        if args.only in (None, "single"):
            print("phase 1: one server")
            results.append(await phase_single(args, procs, work))
        if args.only in (None, "replicas"):
            print("phase 2: two replicas behind Redis")
            results.append(await phase_replicas(args, procs, work))

    try:
        asyncio.run(run())
        failed = False
    except BaseException:
        procs.dump_logs()
        raise
    finally:
        procs.stop_all()
    for result in results:
        report(result)
    errors = sum(len(r.signin_errors) + len(r.tab_errors) for r in results)
    errors += sum(len([t for t in r.memory.get("plain_tabs", []) if t.error]) for r in results)
    errors += sum(len([s for s in r.memory.get("second", []) if not s.ok]) for r in results)
    mixups = sum(r.mixups for r in results)
    not_open = sum(len(r.tabs) - len(r.tab_errors) - r.open_after for r in results)
    print(f"\ntotal: errors {errors}, identity mix-ups {mixups}, tabs closed early {not_open}; "
          f"wall {time.perf_counter() - script_start:.0f}s; load average (1 min) at the end {os.getloadavg()[0]:.2f}")
    if failed or errors or mixups or not_open:
        print(f"logs kept in {work}")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
