#!/usr/bin/env python3
"""Fault drills: what users see when a dependency of ``streamlit-auth run`` fails, and what
is left afterwards.

Faults (each a "drill", run one after the other against real components)
    * OP down: the OP's address refuses connections (a TCP proxy at the OP's issuer address
      closes its listener and every open connection; the OP process behind it keeps
      running, so its signing key is unchanged afterwards);
    * OP slow: the same proxy holds every OP answer 5 s (``--op-delay``); ``--slow-callbacks``
      (40) sign-ins are at their callback at once, more than the server's 32 blocking-call
      threads; then one answer held 12 s, beyond the server's 10 s read timeout;
    * OP answering garbage: every OP answer is an HTTP 200 whose JSON body is junk; then
      every answer is random bytes, not even HTTP;
    * OP stopped: the OP process itself is stopped, then started again (a new process:
      op.mjs makes a new signing key at each start, under the same ``kid``);
    * slapd down: the LDAP server is stopped, then started again;
    * SQLite file unwritable: ``chattr +i`` on the session database and its WAL (the
      immutable attribute: even root, and descriptors the server already holds, cannot
      write; file permissions would not stop root). Then: SQLite file locked, another
      connection holding ``BEGIN EXCLUSIVE`` (as a backup tool or a stray ``sqlite3``
      shell would);
    * Redis slow (1.5 s per answer, through the same kind of proxy), Redis stopped
      (``kill -STOP`` for ``--redis-pause`` s, then ``-CONT``: data kept), Redis killed
      (``SIGKILL``) and restarted with its append-only file (data kept), and Redis killed
      and restarted without persistence (data lost: users must be signed out cleanly).
    * baseline: the same activity with no fault, for the machine's noise floor.

What each drill records (one table row)
    * what the user sees: status and a short excerpt of the page or JSON of each
      attempt made during the fault (a sign-in at its callback, a new sign-in, the
      sign-in page of a server that has not cached the OP's discovery yet, an LDAP
      sign-in, a signed-in user's /auth/userinfo, a page load over the websocket), with
      its time;
    * ``/_stcore/health`` latency, sampled every 50 ms from a thread of its own from the
      moment the fault starts until 0.5 s after it ends: max and p99;
    * half-signed-in: every sign-in attempted during the fault must either have fully
      succeeded (session cookie and /auth/userinfo 200 with the right identity once the
      fault is over) or have left neither a session cookie nor a session record (the
      store's record count, read directly from SQLite or Redis, may grow by the number
      of successful sign-ins only);
    * intact: users signed in before the fault still get /auth/userinfo 200 with the same
      id afterwards (after "Redis killed without persistence": answer 401, no 5xx);
    * signed-in traffic during the fault: a pre-fault user's /auth/userinfo every 100 ms,
      statuses counted.

Expectations (exit status 1 when one fails): health max < ``--health-ms`` (100) during
every fault; no half-signed-in user; pre-fault sessions intact (or cleanly signed out,
for the volatile Redis); no 500 and every answer within 30 s.

Components: the real OP (tests/op/op.mjs), slapd (tests/e2e/ldap_server.py's
``run_slapd``), redis-server (the flags of tests/e2e/redis_server.py), all on 127.0.0.1;
needs root only for ``chattr`` (that drill is reported as skipped otherwise).

Usage: ``python3 scripts/fault_drills.py [--quick] [--only op-slow,redis-stop]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _benchlib import (HOST, REPO_DIR, OthersMeter, exit_on_sigterm, free_port, percentile, wait_for_exit,
                       wait_healthy, wait_quiet)
from load_sessions import (
    PROVIDER,
    Browser,
    Failed,
    Identity,
    Procs,
    Redis,
    SignIn,
    Tab,
    configure_http_client,
    excerpt,
    finish_callback,
    login_name,
    on_replica,
    open_tab,
    raise_open_files_limit,
    reach_callback,
    secrets_toml,
    session_cookie,
    sign_in,
    userinfo,
    wait_op,
    warm_browser,
    write_app,
)

sys.path.insert(0, str(REPO_DIR))
LDAP_TEMPLATE = "uid={username},ou=people,dc=example,dc=org"
#: An answer slower than this during a fault counts as a hang.
ANSWER_BOUND = 30.0


# --- a TCP proxy that can misbehave ------------------------------------------------------


class FaultProxy:
    """A TCP proxy on its own thread and event loop, in front of the OP or Redis.

    Modes: ``pass``; ``delay`` (every answer held ``delay`` seconds: the first bytes coming
    back after each request); ``garbage-http`` (each request gets a 200 with a junk JSON
    body, connection closed); ``garbage-bytes`` (random bytes, not HTTP); ``closed`` (no
    listener: connections are refused). Changing mode drops every open connection, so
    pooled clients see the new behaviour at their next request.
    """

    def __init__(self, upstream_port: int, port: int | None = None):
        self.port = port or free_port()
        self.upstream = upstream_port
        self.mode, self.delay = "pass", 0.0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)

    def start(self) -> FaultProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def set_mode(self, mode: str, delay: float = 0.0, *, drop: bool = True) -> None:
        """Switch; ``drop=False`` keeps open connections (a delay then applies to them at once)."""
        self._call(self._switch(mode, delay, drop))

    def close(self) -> None:
        self._call(self._switch("closed", 0.0, True))
        self._call(self._cancel_all())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    async def _cancel_all(self) -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _call(self, coro: Awaitable[Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, HOST, self.port, reuse_address=True)

    async def _switch(self, mode: str, delay: float, drop: bool = True) -> None:
        self.mode, self.delay = mode, delay
        if drop or mode == "closed":
            for writer in list(self._writers):
                writer.close()
            self._writers.clear()
        if mode == "closed" and self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        elif mode != "closed" and self._server is None:
            await self._listen()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            if self.mode.startswith("garbage"):
                await asyncio.wait_for(reader.read(65536), 5)
                if self.mode == "garbage-http":
                    body = b'{"issuer": [1, 2, <html>not json at all \x00\xff'
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                                 + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
                else:
                    writer.write(os.urandom(700))
                await writer.drain()
                return
            try:
                up_reader, up_writer = await asyncio.open_connection(HOST, self.upstream)
            except OSError:
                return
            self._writers.add(up_writer)
            waiting = asyncio.Event()

            async def client_to_upstream() -> None:
                while data := await reader.read(65536):
                    waiting.set()
                    up_writer.write(data)
                    await up_writer.drain()
                up_writer.close()

            async def upstream_to_client() -> None:
                while data := await up_reader.read(65536):
                    if self.mode == "delay" and waiting.is_set():
                        await asyncio.sleep(self.delay)
                    waiting.clear()
                    writer.write(data)
                    await writer.drain()
                writer.close()

            await asyncio.gather(client_to_upstream(), upstream_to_client(), return_exceptions=True)
            self._writers.discard(up_writer)
            up_writer.close()
        except (OSError, asyncio.TimeoutError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()


# --- health sampling ----------------------------------------------------------------------


SAMPLER = """
import http.client, sys, time
port, interval, timeout = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
while True:
    started = time.monotonic()
    ok = False
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/_stcore/health")
        response = conn.getresponse()
        ok = response.status == 200 and response.read().strip() == b"ok"
    except (OSError, http.client.HTTPException):
        pass
    finally:
        conn.close()
    elapsed = time.monotonic() - started
    print(f"{started:.6f} {elapsed * 1000 if ok else timeout * 1000:.3f} {int(ok)}", flush=True)
    time.sleep(max(0.0, interval - elapsed))
"""


class HealthSampler:
    """GET /_stcore/health every ``interval`` s on a new connection, from a process of its
    own (neither the drill's event loop nor this process's GIL can delay it); a failed or
    timed-out probe counts as ``timeout`` ms. Times are CLOCK_MONOTONIC, shared by processes."""

    def __init__(self, port: int, interval: float = 0.05, timeout: float = 5.0):
        self.port, self.interval, self.timeout = port, interval, timeout
        self.samples: list[tuple[float, float, bool]] = []  # (monotonic start, ms, ok)
        self._out = tempfile.TemporaryFile()
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> HealthSampler:
        self._proc = subprocess.Popen([sys.executable, "-c", SAMPLER, str(self.port), str(self.interval),
                                       str(self.timeout)], stdout=self._out, stderr=subprocess.DEVNULL)
        return self

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=10)
        self._out.seek(0)
        for line in self._out.read().decode().splitlines():
            at, ms, ok = line.split()
            self.samples.append((float(at), float(ms), ok == "1"))
        self._out.close()

    def between(self, start: float, end: float) -> list[float]:
        return [ms for at, ms, _ in self.samples if start <= at <= end]


# --- the servers --------------------------------------------------------------------------


@dataclass
class PreUser:
    """A user signed in before the faults: their browser, server and id."""

    label: str
    browser: Browser
    base: str
    id: str


@dataclass
class Deployment:
    """One ``streamlit-auth run`` server (and a second, "cold" one on the same store that has
    never fetched the OP's discovery), its OP and its store."""

    name: str
    base: str
    port: int
    issuer: str
    redirect_uri: str
    procs: Procs
    server: Any
    op_proc: Any
    op_port: int
    op_proxy: FaultProxy | None = None
    cold_base: str | None = None
    sqlite_path: Path | None = None
    redis: Redis | None = None
    redis_proxy: FaultProxy | None = None
    ldap_uri: str | None = None
    slapd_conf: Path | None = None
    pre: list[PreUser] = field(default_factory=list)
    signed: int = 0

    def records(self) -> int:
        """Session records in the store, read directly (not through the server)."""
        if self.sqlite_path is not None:
            with sqlite3.connect(self.sqlite_path, timeout=10) as db:
                return int(db.execute("SELECT count(*) FROM sessions").fetchone()[0])
        assert self.redis is not None
        return self.redis.count()

    async def oidc_sign_in(self, base: str | None = None) -> SignIn:
        self.signed += 1
        return await sign_in(login_name(100 + self.signed), app=base or self.base, redirect_uri=self.redirect_uri,
                             issuer=self.issuer)

    async def prepare_callbacks(self, count: int) -> list[tuple[SignIn, str]]:
        """Browsers that went through the OP's forms and hold a callback URL, not yet used."""
        async def one() -> tuple[SignIn, str]:
            self.signed += 1
            attempt = SignIn(login_name(100 + self.signed), Browser())
            await warm_browser(attempt.browser, self.base)
            url = await reach_callback(attempt.browser, f"{self.base}/auth/login?provider={PROVIDER}", attempt.login,
                                       self.redirect_uri)
            return attempt, on_replica(url, self.base)

        return list(await asyncio.gather(*(one() for _ in range(count))))


async def ldap_sign_in(base: str, username: str = "alice", password: str = "alice-ldap-password") -> SignIn:
    """A password sign-in through the login form (source ldap), as a browser posts it."""
    attempt = SignIn(f"ldap:{username}", Browser())
    started = time.perf_counter()
    try:
        await warm_browser(attempt.browser, base)
        page = await attempt.browser.fetch("GET", f"{base}/auth/login")
        found = re.search(rb'name="_xsrf" value="([^"]+)"', page.body or b"")
        data = {"username": username, "password": password, "source": "ldap", "next": "/"}
        if found:
            data["_xsrf"] = found.group(1).decode()
        response = await attempt.browser.fetch("POST", f"{base}/auth/login", data,
                                               headers={"Origin": base, "Accept": "text/html"})
        attempt.status, attempt.page = response.code, excerpt(response.body)
        if response.code not in (302, 303):
            raise Failed("POST /auth/login", response.code, attempt.page)
        code, body, raw = await userinfo(attempt.browser, base)
        if code != 200 or body is None:
            raise Failed("/auth/userinfo", code, excerpt(raw))
        attempt.identity = Identity(body.get("email"), None, body.get("id"))
        attempt.ok = True
    except Failed as exc:
        attempt.error = str(exc)
    except (ConnectionError, OSError, asyncio.TimeoutError) as exc:
        attempt.error = f"{type(exc).__name__}: {exc}"
    attempt.seconds = time.perf_counter() - started
    return attempt


# --- one drill ------------------------------------------------------------------------------


@dataclass
class Row:
    """One drill's results."""

    drill: str
    sees: list[str] = field(default_factory=list)
    health: list[float] = field(default_factory=list)
    attempts: list[SignIn] = field(default_factory=list)
    half: list[str] = field(default_factory=list)
    intact: tuple[int, int] = (0, 0)
    intact_expected: str = "intact"
    traffic: Counter[str] = field(default_factory=Counter)
    traffic_max_ms: float = 0.0
    answers: list[tuple[int | None, float]] = field(default_factory=list)  # (status, seconds) of each attempt
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    skipped: str | None = None
    seconds: float = 0.0
    #: CPU used by processes not started by this script during the fault, % of one CPU
    others: float = 0.0

    def see(self, what: str, status: int | str | None, text: str, seconds: float) -> None:
        self.sees.append(f"{what}: {status} {text!r} ({seconds:.2f}s)")
        self.answers.append((status if isinstance(status, int) else None, seconds))

    def see_signin(self, what: str, attempt: SignIn) -> None:
        if attempt.ok:
            self.see(what, attempt.status or 303, "signed in", attempt.seconds)
        else:
            status = attempt.status if attempt.status is not None else "no answer"
            self.see(what, status, attempt.page or attempt.error or "", attempt.seconds)
        self.attempts.append(attempt)


async def timed(coro: Awaitable[Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = await asyncio.wait_for(coro, ANSWER_BOUND + 5)
    return result, time.perf_counter() - started


async def see_callback(row: Row, what: str, attempt: SignIn, url: str, check_base: str) -> None:
    """Use a prepared callback URL and record what the browser gets; complete the attempt
    (userinfo) when the callback signed it in."""
    try:
        response, seconds = await timed(finish_callback(attempt.browser, url))
        attempt.status, attempt.page, attempt.seconds = response.code, excerpt(response.body), seconds
        if response.code in (302, 303):
            code, body, _ = await userinfo(attempt.browser, check_base)
            attempt.ok = code == 200 and body is not None and body.get("email") == f"{attempt.login}@example.org"
            if not attempt.ok:
                attempt.error = f"callback {response.code} but userinfo {code}"
        else:
            attempt.error = f"HTTP {response.code}"
    except (ConnectionError, OSError, asyncio.TimeoutError) as exc:
        attempt.error = f"{type(exc).__name__}: {exc}"
    row.see_signin(what, attempt)


async def see_userinfo(row: Row, what: str, user: PreUser) -> None:
    try:
        (code, body, raw), seconds = await timed(userinfo(user.browser, user.base))
        row.see(what, code, f"id={body.get('id')}" if code == 200 and body else excerpt(raw, 90), seconds)
    except (ConnectionError, OSError, asyncio.TimeoutError) as exc:
        row.see(what, "no answer", f"{type(exc).__name__}", ANSWER_BOUND)


async def see_tab(row: Row, what: str, user: PreUser, issuer: str) -> None:
    tab = Tab(0, user.base, None)
    await open_tab(tab, user.browser.cookie_header(f"{user.base}/_stcore/stream"), timeout=ANSWER_BOUND)
    tab.close()
    if tab.seen is None:
        row.see(what, "failed", tab.error or "", tab.loaded_ms / 1000)
    else:
        shown = "anonymous" if tab.seen.anonymous else f"signed in as {tab.seen.id}"
        row.see(what, "page", shown + ("" if tab.seen.anonymous or tab.seen.id == user.id else " (NOT THEIRS)"),
                tab.loaded_ms / 1000)
        if not tab.seen.anonymous and tab.seen.id != user.id:
            row.failures.append(f"identity mix-up in a tab: {tab.seen.id} for {user.id}")


async def see_page(row: Row, what: str, url: str, headers: dict[str, str] | None = None) -> None:
    browser = Browser()
    try:
        response, seconds = await timed(browser.fetch("GET", url, headers=headers or {"Accept": "text/html"}))
        location = response.headers.get("Location")
        text = f"-> {location[:60]}" if location else excerpt(response.body, 110)
        row.see(what, response.code, text, seconds)
    except (ConnectionError, OSError, asyncio.TimeoutError) as exc:
        row.see(what, "no answer", type(exc).__name__, ANSWER_BOUND)


async def traffic(dep: Deployment, row: Row, stop: asyncio.Event) -> None:
    """Signed-in users' /auth/userinfo, one every 100 ms, in turn, until ``stop``."""
    users = [u for u in dep.pre if u.base == dep.base]
    index = 0
    while not stop.is_set() and users:
        user = users[index % len(users)]
        index += 1

        async def one(user: PreUser = user) -> None:
            started = time.perf_counter()
            try:
                code, _, _ = await userinfo(user.browser, user.base)
                row.traffic[str(code)] += 1
            except (ConnectionError, OSError, asyncio.TimeoutError) as exc:
                row.traffic[type(exc).__name__] += 1
            row.traffic_max_ms = max(row.traffic_max_ms, (time.perf_counter() - started) * 1000)

        asyncio.ensure_future(one())
        try:
            await asyncio.wait_for(stop.wait(), 0.1)
        except asyncio.TimeoutError:
            pass


Hook = Callable[[], Any]


async def drill(dep: Deployment, name: str, fault_on: Hook, during: Callable[[Row], Awaitable[None]],
                fault_off: Hook, *, intact_expected: str = "intact", kept_records: bool = True,
                recover: Callable[[Row], Awaitable[None]] | None = None) -> Row:
    """Run one fault: health sampled and traffic running throughout; checks afterwards."""
    row = Row(name, intact_expected=intact_expected)
    started = time.perf_counter()
    before = dep.records()
    sampler = HealthSampler(dep.port).start()
    stop = asyncio.Event()
    load = asyncio.ensure_future(traffic(dep, row, stop))
    await asyncio.sleep(0.2)
    roots = [proc.pid for proc in dep.procs.started] + ([dep.redis.pid] if dep.redis and dep.redis.pid else [])
    meter = OthersMeter(roots)
    meter.start()
    fault_start = time.monotonic()
    try:
        await maybe_await(fault_on())
        await during(row)
    finally:
        await maybe_await(fault_off())
        fault_end = time.monotonic()
    await asyncio.sleep(0.5)
    row.others = meter.stop()
    stop.set()
    await load
    sampler.stop()
    row.health = sampler.between(fault_start, fault_end + 0.5)
    await asyncio.sleep(1.0)  # in-flight traffic answers

    # Afterwards: nobody half-signed-in, pre-fault sessions as expected.
    successes = 0
    for attempt in row.attempts:
        has_cookie = session_cookie(attempt.browser)
        code, body, _ = await userinfo(attempt.browser, dep.base)
        if attempt.ok and code == 200:
            successes += 1
        elif attempt.ok:
            row.half.append(f"{attempt.login}: signed in during the fault, userinfo {code} afterwards")
        elif has_cookie:
            row.half.append(f"{attempt.login}: sign-in failed but left a session cookie (userinfo {code})")
    after = dep.records()
    expected = (before if kept_records else 0) + successes
    if after > expected:
        row.half.append(f"{after - expected} session record(s) in the store without a signed-in browser "
                        f"(records {before} before, {after} after, {successes} successful sign-ins)")
    good = 0
    for user in dep.pre:
        code, body, _ = await userinfo(user.browser, user.base)
        if intact_expected == "intact":
            good += code == 200 and body is not None and body.get("id") == user.id
        else:
            good += code == 401
    row.intact = (good, len(dep.pre))
    if recover is not None:
        await recover(row)
    row.seconds = time.perf_counter() - started
    judge(row, dep)
    return row


def judge(row: Row, dep: Deployment) -> None:
    limit = ARGS.health_ms
    if row.health and max(row.health) >= limit:
        row.failures.append(f"health max {max(row.health):.0f} ms >= {limit:g} ms")
    if not row.health:
        row.failures.append("no health sample")
    if row.half:
        row.failures.append(f"{len(row.half)} half-signed-in")
    if row.intact[0] != row.intact[1]:
        row.failures.append(f"pre-fault sessions {row.intact_expected}: {row.intact[0]}/{row.intact[1]}")
    if any(status == 500 for status, _ in row.answers) or row.traffic.get("500"):
        row.failures.append("a 500 answer")
    if any(seconds > ANSWER_BOUND for _, seconds in row.answers):
        row.failures.append(f"an answer took more than {ANSWER_BOUND:g}s")


async def maybe_await(value: Any) -> None:
    if asyncio.iscoroutine(value):
        await value


# --- the drills -----------------------------------------------------------------------------


async def see_common(row: Row, dep: Deployment, label: str = "during") -> None:
    """What a signed-in user sees during any fault: their userinfo and a page load."""
    if dep.pre:
        await see_userinfo(row, f"signed-in user's /auth/userinfo {label}", dep.pre[0])
        await see_tab(row, f"signed-in user's page load {label}", dep.pre[0], dep.issuer)


async def drill_baseline(dep: Deployment) -> Row:
    async def during(row: Row) -> None:
        row.see_signin("new sign-in", await dep.oidc_sign_in())
        await see_common(row, dep)
        await asyncio.sleep(1.0)

    return await drill(dep, "baseline (no fault)", lambda: None, during, lambda: None)


async def recovery_sign_in(dep: Deployment, row: Row, expect: bool = True) -> None:
    attempt = await dep.oidc_sign_in()
    row.notes.append(f"after: a new OIDC sign-in {'works' if attempt.ok else 'FAILS: ' + (attempt.page or attempt.error or '')}")
    if expect and not attempt.ok:
        row.failures.append("no sign-in after the fault")


async def drill_op_down(dep: Deployment) -> Row:
    assert dep.op_proxy is not None
    prepared: list[tuple[SignIn, str]] = []

    async def on() -> None:
        prepared.extend(await dep.prepare_callbacks(1))
        dep.op_proxy.set_mode("closed")

    async def during(row: Row) -> None:
        attempt, url = prepared[0]
        await see_callback(row, "sign-in at its callback", attempt, url, dep.base)
        row.see_signin("new sign-in (the browser cannot reach the OP)", await dep.oidc_sign_in())
        await see_page(row, "sign-in page, discovery not cached", f"{dep.cold_base}/auth/login?provider={PROVIDER}")
        await see_common(row, dep)

    return await drill(dep, "OP down (address refuses)", on, during, lambda: dep.op_proxy.set_mode("pass"),
                       recover=lambda row: recovery_sign_in(dep, row))


async def drill_op_slow(dep: Deployment) -> Row:
    assert dep.op_proxy is not None
    prepared: list[tuple[SignIn, str]] = []
    late: list[tuple[SignIn, str]] = []

    async def on() -> None:
        prepared.extend(await dep.prepare_callbacks(ARGS.slow_callbacks))
        late.extend(await dep.prepare_callbacks(1))
        dep.op_proxy.set_mode("delay", ARGS.op_delay)

    async def during(row: Row) -> None:
        started = time.perf_counter()
        callbacks = [asyncio.ensure_future(see_callback(Row("scratch"), "", a, u, dep.base)) for a, u in prepared]
        await asyncio.sleep(1.0)
        # Another user's userinfo and page load, side by side, while the callbacks wait.
        await asyncio.gather(see_userinfo(row, "signed-in user's /auth/userinfo while callbacks wait", dep.pre[0]),
                             see_tab(row, "signed-in user's page load while callbacks wait", dep.pre[0], dep.issuer))
        others: list[float] = [seconds * 1000 for _, seconds in row.answers[-2:]]
        # Then other users' userinfo, in turn, until the callbacks are done.
        while not all(c.done() for c in callbacks) and time.perf_counter() - started < 60:
            for user in dep.pre[:2]:
                t0 = time.perf_counter()
                code, _, _ = await userinfo(user.browser, user.base)
                others.append((time.perf_counter() - t0) * 1000)
                if code != 200:
                    row.failures.append(f"another user's userinfo answered {code} while the OP was slow")
            await asyncio.sleep(0.2)
        await asyncio.gather(*callbacks)
        done = [a for a, _ in prepared]
        ok = [a for a in done if a.ok]
        times = sorted(a.seconds for a in done)
        row.see(f"{len(done)} sign-ins at their callback at once", Counter(str(a.status) for a in done).most_common(1)[0][0],
                f"{len(ok)} signed in; callback p50 {percentile(times, 50):.1f}s, max {max(times):.1f}s", max(times))
        row.attempts.extend(done)
        row.notes.append(f"other users' /auth/userinfo and page loads while {len(done)} callbacks waited on the OP: "
                         f"p50 {percentile(others, 50):.0f} ms, max {max(others):.0f} ms (n={len(others)})")
        if others and max(others) > 1000:
            row.failures.append(f"other users' requests took up to {max(others) / 1000:.1f} s while sign-ins "
                                "waited on the slow OP")
        dep.op_proxy.set_mode("delay", 12.0)
        attempt, url = late[0]
        await see_callback(row, "sign-in at its callback, OP answer held 12 s", attempt, url, dep.base)

    return await drill(dep, f"OP slow ({ARGS.op_delay:g} s per answer)", on, during,
                       lambda: dep.op_proxy.set_mode("pass"), recover=lambda row: recovery_sign_in(dep, row))


async def drill_op_garbage(dep: Deployment, mode: str) -> Row:
    assert dep.op_proxy is not None
    prepared: list[tuple[SignIn, str]] = []

    async def on() -> None:
        prepared.extend(await dep.prepare_callbacks(1))
        dep.op_proxy.set_mode(mode)

    async def during(row: Row) -> None:
        attempt, url = prepared[0]
        await see_callback(row, "sign-in at its callback", attempt, url, dep.base)
        await see_page(row, "sign-in page, discovery not cached", f"{dep.cold_base}/auth/login?provider={PROVIDER}")
        await see_common(row, dep)

    label = "JSON junk" if mode == "garbage-http" else "random bytes"
    return await drill(dep, f"OP answering garbage ({label})", on, during, lambda: dep.op_proxy.set_mode("pass"),
                       recover=lambda row: recovery_sign_in(dep, row))


async def drill_op_stopped(dep: Deployment) -> Row:
    """The OP process itself stops, then starts again (a new process, a new signing key)."""
    prepared: list[tuple[SignIn, str]] = []

    async def on() -> None:
        prepared.extend(await dep.prepare_callbacks(1))
        dep.procs.stop(dep.op_proc)

    async def during(row: Row) -> None:
        attempt, url = prepared[0]
        await see_callback(row, "sign-in at its callback", attempt, url, dep.base)
        row.see_signin("new sign-in", await dep.oidc_sign_in())
        await see_common(row, dep)

    def off() -> None:
        dep.op_proc = dep.procs.start_op(dep.op_port, dep.base, dep.issuer)
        wait_op(dep.op_proc, dep.issuer)

    async def recover(row: Row) -> None:
        attempt = await dep.oidc_sign_in()
        row.notes.append("after the OP's restart (new signing key, same kid): a new sign-in "
                         + ("works" if attempt.ok else f"FAILS: {attempt.status} {attempt.page or attempt.error}"))
        if not attempt.ok:
            row.notes.append("(reported, not an expectation of this drill: see docs/benchmarks.md)")

    return await drill(dep, "OP stopped, then restarted", on, during, off, recover=recover)


async def drill_slapd_down(dep: Deployment) -> Row:
    assert dep.slapd_conf is not None and dep.ldap_uri is not None
    pid_file = dep.slapd_conf.parent / "slapd.pid"

    def on() -> None:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGTERM)
        wait_for_exit(pid)

    async def during(row: Row) -> None:
        row.see_signin("LDAP sign-in (password form)", await ldap_sign_in(dep.base))
        await see_common(row, dep)

    def off() -> None:
        slapd = shutil.which("slapd") or "/usr/sbin/slapd"
        subprocess.run([slapd, "-f", str(dep.slapd_conf), "-h", dep.ldap_uri + "/"], check=True, capture_output=True)
        for _ in range(200):
            probe = subprocess.run(["ldapsearch", "-x", "-H", dep.ldap_uri, "-b", "", "-s", "base"], capture_output=True)
            if probe.returncode == 0:
                return
            time.sleep(0.05)

    async def recover(row: Row) -> None:
        attempt = await ldap_sign_in(dep.base)
        row.notes.append(f"after: an LDAP sign-in {'works' if attempt.ok else 'FAILS: ' + (attempt.page or attempt.error or '')}")
        if not attempt.ok:
            row.failures.append("no LDAP sign-in after slapd came back")

    return await drill(dep, "slapd down", on, during, off, recover=recover)


def chattr_works(folder: Path) -> bool:
    probe = folder / "chattr-probe"
    probe.write_text("x")
    try:
        ok = subprocess.run(["chattr", "+i", str(probe)], capture_output=True).returncode == 0
        if ok:
            subprocess.run(["chattr", "-i", str(probe)], capture_output=True)
        return ok
    except FileNotFoundError:
        return False
    finally:
        probe.unlink(missing_ok=True)


async def drill_sqlite(dep: Deployment, how: str) -> Row:
    assert dep.sqlite_path is not None
    path = dep.sqlite_path
    files = [str(p) for p in (path, Path(f"{path}-wal")) if p.exists()]
    holder: list[sqlite3.Connection] = []
    prepared: list[tuple[SignIn, str]] = []

    async def on() -> None:
        prepared.extend(await dep.prepare_callbacks(1))
        if how == "unwritable":
            subprocess.run(["chattr", "+i", *files], check=True, capture_output=True)
        else:
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            db.execute("BEGIN EXCLUSIVE")
            holder.append(db)

    async def during(row: Row) -> None:
        attempt, url = prepared[0]
        await see_callback(row, "OIDC sign-in at its callback", attempt, url, dep.base)
        row.see_signin("LDAP sign-in (password form)", await ldap_sign_in(dep.base))
        await see_common(row, dep)
        # A user whose record needs a write (last_seen is refreshed at most every 30 s).
        await asyncio.sleep(0.5)

    def off() -> None:
        if how == "unwritable":
            subprocess.run(["chattr", "-i", *files], check=True, capture_output=True)
        for db in holder:
            db.execute("ROLLBACK")
            db.close()

    label = "SQLite file unwritable (chattr +i)" if how == "unwritable" else "SQLite file locked (BEGIN EXCLUSIVE)"
    return await drill(dep, label, on, during, off, recover=lambda row: recovery_sign_in(dep, row))


async def drill_redis_slow(dep: Deployment) -> Row:
    assert dep.redis_proxy is not None

    async def during(row: Row) -> None:
        await see_page(row, "public page /", f"{dep.base}/")
        row.see_signin("new sign-in", await dep.oidc_sign_in())
        await see_common(row, dep)

    return await drill(dep, "Redis slow (1.5 s per answer)", lambda: dep.redis_proxy.set_mode("delay", 1.5, drop=False),
                       during, lambda: dep.redis_proxy.set_mode("pass", drop=False), recover=lambda row: recovery_sign_in(dep, row))


async def drill_redis_stop(dep: Deployment) -> Row:
    assert dep.redis is not None
    prepared: list[tuple[SignIn, str]] = []

    async def on() -> None:
        prepared.extend(await dep.prepare_callbacks(2))
        os.kill(dep.redis.pid, signal.SIGSTOP)  # type: ignore[arg-type]

    async def during(row: Row) -> None:
        started = time.perf_counter()
        tasks = [see_callback(row, "sign-in at its callback", a, u, dep.base) for a, u in prepared]
        fresh = asyncio.ensure_future(dep.oidc_sign_in())
        await asyncio.gather(*tasks, see_common(row, dep))
        remaining = ARGS.redis_pause - (time.perf_counter() - started)
        if remaining > 0:
            await asyncio.sleep(remaining)
        os.kill(dep.redis.pid, signal.SIGCONT)  # type: ignore[union-attr, arg-type]
        row.see_signin("new sign-in started during the pause", await fresh)

    def off() -> None:
        os.kill(dep.redis.pid, signal.SIGCONT)  # type: ignore[union-attr, arg-type]

    return await drill(dep, f"Redis stopped {ARGS.redis_pause:g} s (kill -STOP/-CONT)", on, during, off,
                       recover=lambda row: recovery_sign_in(dep, row))


async def drill_redis_kill(dep: Deployment, persistent: bool) -> Row:
    assert dep.redis is not None

    def on() -> None:
        os.kill(dep.redis.pid, signal.SIGKILL)  # type: ignore[arg-type]
        time.sleep(0.1)

    async def during(row: Row) -> None:
        started = time.perf_counter()
        row.see_signin("new sign-in", await dep.oidc_sign_in())
        await see_common(row, dep)
        remaining = 3.0 - (time.perf_counter() - started)
        if remaining > 0:
            await asyncio.sleep(remaining)

    def off() -> None:
        dep.redis.persistent = persistent  # type: ignore[union-attr]
        if not persistent:  # restarted without its append-only file: an empty Redis
            for found in dep.redis.folder.glob("appendonly*"):  # type: ignore[union-attr]
                shutil.rmtree(found) if found.is_dir() else found.unlink()
        dep.redis.start()  # type: ignore[union-attr]

    async def recover(row: Row) -> None:
        await recovery_sign_in(dep, row)
        if not persistent:
            row.notes.append("pre-fault users are signed out (401, cookie cleared): the data went with the process")

    label = ("Redis killed, restarted (append-only file)" if persistent
             else "Redis killed, restarted empty (no persistence)")
    return await drill(dep, label, on, during, off, intact_expected="intact" if persistent else "signed out (401)",
                       kept_records=persistent, recover=recover)


# --- set-up ----------------------------------------------------------------------------------


async def sign_in_pre(dep: Deployment, count: int, ldap: bool) -> None:
    for i in range(count):
        attempt = await sign_in(f"pre-{i}", app=dep.base, redirect_uri=dep.redirect_uri, issuer=dep.issuer)
        if not attempt.ok or attempt.identity is None:
            raise RuntimeError(f"pre-fault sign-in failed: {attempt.error}")
        dep.pre.append(PreUser(f"pre-{i}", attempt.browser, dep.base, attempt.identity.id or ""))
    if ldap:
        attempt = await ldap_sign_in(dep.base)
        if not attempt.ok or attempt.identity is None:
            raise RuntimeError(f"pre-fault LDAP sign-in failed: {attempt.error}")
        dep.pre.append(PreUser("ldap-alice", attempt.browser, dep.base, attempt.identity.id or ""))


def ldap_secrets(uri: str) -> str:
    return f'\n[auth.ldap]\nserver_uri = "{uri}"\nuser_dn_template = "{LDAP_TEMPLATE}"\n'


async def sqlite_deployment(procs: Procs, work: Path, stack: ExitStack) -> Deployment:
    """OP behind a fault proxy, slapd, one server on a SQLite store, a cold second server."""
    from tests.e2e.ldap_server import run_slapd

    ldap_uri = stack.enter_context(run_slapd(work / "ldap"))
    port, cold_port, op_port = free_port(), free_port(), free_port()
    base = f"http://{HOST}:{port}"
    proxy = FaultProxy(op_port).start()
    stack.callback(proxy.close)
    issuer = f"http://{HOST}:{proxy.port}"
    op = procs.start_op(op_port, base, issuer)
    store = work / "store" / "sessions.db"
    secrets = secrets_toml(base, issuer, f"sqlite://{store}") + ldap_secrets(ldap_uri)
    folder = write_app(work / "sqlite-app", secrets)
    server = procs.start_server("ours", port, folder)
    procs.start_server("ours", cold_port, folder)
    wait_op(op, issuer)
    wait_healthy(server, port, timeout=90)
    wait_healthy(procs.started[-1], cold_port, timeout=90)
    dep = Deployment("SQLite", base, port, issuer, f"{base}/oauth2callback", procs, server, op, op_port,
                     op_proxy=proxy, cold_base=f"http://{HOST}:{cold_port}", sqlite_path=store, ldap_uri=ldap_uri,
                     slapd_conf=work / "ldap" / "slapd" / "ldap" / "slapd.conf")
    await sign_in_pre(dep, ARGS.pre_users, ldap=True)
    return dep


async def redis_deployment(procs: Procs, work: Path, stack: ExitStack) -> Deployment:
    """Redis (append-only file) behind a fault proxy, the OP, one server on that Redis."""
    redis = Redis(work / "redis", persistent=True)
    redis.start()
    stack.callback(redis.stop)
    proxy = FaultProxy(redis.port).start()
    stack.callback(proxy.close)
    port, op_port = free_port(), free_port()
    base, issuer = f"http://{HOST}:{port}", f"http://{HOST}:{op_port}"
    op = procs.start_op(op_port, base)
    folder = write_app(work / "redis-app", secrets_toml(base, issuer, f"redis://{HOST}:{proxy.port}/0"))
    server = procs.start_server("ours", port, folder)
    wait_op(op, issuer)
    wait_healthy(server, port, timeout=90)
    dep = Deployment("Redis", base, port, issuer, f"{base}/oauth2callback", procs, server, op, op_port,
                     redis=redis, redis_proxy=proxy)
    await sign_in_pre(dep, ARGS.pre_users, ldap=False)
    return dep


# --- report ----------------------------------------------------------------------------------


def print_table(rows: Sequence[Row]) -> None:
    print()
    print("| drill | health max / p99 ms (n) | half-signed-in | pre-fault sessions | traffic (userinfo) "
          "| other processes' CPU | verdict |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        if row.skipped:
            print(f"| {row.drill} | - | - | - | - | - | skipped: {row.skipped} |")
            continue
        health = (f"{max(row.health):.0f} / {percentile(row.health, 99):.0f} ({len(row.health)})"
                  if row.health else "-")
        traffic = ", ".join(f"{n}x{code}" for code, n in sorted(row.traffic.items())) or "-"
        verdict = "ok" if not row.failures else "FAIL: " + "; ".join(row.failures)
        print(f"| {row.drill} | {health} | {len(row.half)} | {row.intact[0]}/{row.intact[1]} {row.intact_expected} "
              f"| {traffic} (max {row.traffic_max_ms:.0f} ms) | {row.others:.0f}% | {verdict} |")
    print("\nwhat users saw during each fault (status, excerpt, time):")
    for row in rows:
        if row.skipped:
            continue
        print(f"- {row.drill} ({row.seconds:.0f}s)")
        for line in row.sees:
            print(f"    {line}")
        for line in row.half:
            print(f"    HALF-SIGNED-IN: {line}")
        for line in row.notes:
            print(f"    note: {line}")


DRILLS = ("baseline", "op-down", "op-slow", "op-garbage", "slapd-down", "sqlite-unwritable", "sqlite-locked",
          "op-stopped", "redis-baseline", "redis-slow", "redis-stop", "redis-kill", "redis-kill-volatile")
ARGS = argparse.Namespace(health_ms=100.0, op_delay=5.0, slow_callbacks=40, redis_pause=6.0, pre_users=3)


def quiet(key: str) -> None:
    """Wait (3 s at most) for other processes to use less than half a CPU, then say which drill."""
    waited, load = wait_quiet(50.0, 3.0)
    print(f"drill: {key}" + (f" (waited {waited:.1f}s for other processes: {load:.0f}% of a CPU)" if waited > 0.5
                             else ""), flush=True)


async def run(procs: Procs, work: Path, selected: set[str], rows: list[Row]) -> None:
    with ExitStack() as stack:
        if selected & set(DRILLS[:8]):
            print("set-up: OP behind a fault proxy, slapd, streamlit-auth on SQLite (and a cold second server)")
            dep = await sqlite_deployment(procs, work, stack)
            can_chattr = chattr_works(dep.sqlite_path.parent)  # type: ignore[union-attr]
            plan: list[tuple[str, Callable[[], Awaitable[Row]]]] = [
                ("baseline", lambda: drill_baseline(dep)),
                ("op-down", lambda: drill_op_down(dep)),
                ("op-slow", lambda: drill_op_slow(dep)),
                ("op-garbage", lambda: drill_op_garbage(dep, "garbage-http")),
                ("op-garbage", lambda: drill_op_garbage(dep, "garbage-bytes")),
                ("slapd-down", lambda: drill_slapd_down(dep)),
                ("sqlite-unwritable", lambda: drill_sqlite(dep, "unwritable")),
                ("sqlite-locked", lambda: drill_sqlite(dep, "locked")),
                ("op-stopped", lambda: drill_op_stopped(dep)),
            ]
            for key, make in plan:
                if key not in selected:
                    continue
                if key == "sqlite-unwritable" and not can_chattr:
                    rows.append(Row("SQLite file unwritable (chattr +i)", skipped="chattr +i refused here (not root, "
                                    "or a file system without the immutable attribute)"))
                    continue
                quiet(key)
                rows.append(await make())
            for proc in list(procs.started):
                procs.stop(proc)
        if selected & set(DRILLS[8:]):
            print("set-up: Redis (append-only file) behind a fault proxy, OP, streamlit-auth on Redis")
            dep = await redis_deployment(procs, work, stack)
            plan = [
                ("redis-baseline", lambda: drill_baseline(dep)),
                ("redis-slow", lambda: drill_redis_slow(dep)),
                ("redis-stop", lambda: drill_redis_stop(dep)),
                ("redis-kill", lambda: drill_redis_kill(dep, persistent=True)),
                ("redis-kill-volatile", lambda: drill_redis_kill(dep, persistent=False)),
            ]
            for key, make in plan:
                if key in selected:
                    quiet(key)
                    row = await make()
                    if key == "redis-baseline":
                        row.drill = "baseline on Redis (no fault)"
                    rows.append(row)
            for proc in list(procs.started):
                procs.stop(proc)


def main() -> int:
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer sign-ins at the callback while the OP is slow (8) and a shorter Redis pause")
    parser.add_argument("--only", default="", help=f"comma-separated drills, from: {', '.join(DRILLS)}")
    parser.add_argument("--health-ms", type=float, default=100.0, help="health must stay under this (100 ms)")
    parser.add_argument("--op-delay", type=float, default=5.0, help="seconds each OP answer is held (5)")
    parser.add_argument("--slow-callbacks", type=int, default=None,
                        help="sign-ins at their callback at once while the OP is slow (40; quick: 8)")
    parser.add_argument("--redis-pause", type=float, default=None, help="seconds Redis stays stopped (6; quick: 4)")
    parser.add_argument("--pre-users", type=int, default=3, help="OIDC users signed in before the faults (3)")
    ARGS = parser.parse_args()
    ARGS.slow_callbacks = ARGS.slow_callbacks or (8 if ARGS.quick else 40)
    ARGS.redis_pause = ARGS.redis_pause or (4.0 if ARGS.quick else 6.0)
    selected = set(ARGS.only.split(",")) if ARGS.only else set(DRILLS)
    unknown = selected - set(DRILLS)
    if unknown:
        parser.error(f"unknown drill(s): {', '.join(sorted(unknown))}")
    exit_on_sigterm()
    raise_open_files_limit()
    configure_http_client()
    print(f"load average (1 min) at start: {os.getloadavg()[0]:.2f}; cpus {os.cpu_count()}")
    work = Path(tempfile.mkdtemp(prefix="fault_drills_"))
    procs = Procs(work)
    rows: list[Row] = []
    started = time.perf_counter()
    failed = True
    try:
        asyncio.run(run(procs, work, selected, rows))
        failed = False
    except BaseException:
        procs.dump_logs()
        raise
    finally:
        procs.stop_all()
        if work.exists():
            subprocess.run(["chattr", "-R", "-i", str(work)], capture_output=True)
        if not failed:
            shutil.rmtree(work, ignore_errors=True)
    print_table(rows)
    failing = [row for row in rows if row.failures]
    noisy = [row for row in rows if row.drill.startswith("baseline") and row.health and max(row.health) >= ARGS.health_ms]
    if noisy:
        print(f"note: with no fault at all, health reached {max(max(r.health) for r in noisy):.0f} ms: this machine's "
              "noise floor (other processes' CPU) is above the limit, so a health failure may be noise; "
              "re-run on a quiet machine")
    print(f"\n{len(rows)} drills, {len(failing)} with a failed expectation; wall {time.perf_counter() - started:.0f}s; "
          f"load average (1 min) at the end {os.getloadavg()[0]:.2f}")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
