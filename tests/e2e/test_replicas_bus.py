"""Replicas behind one Redis, end to end: a real Chromium, real ``streamlit-auth run``
servers, a real ``redis-server``.

- a sign-in or sign-out in a tab on one replica reaches the browser's open tab on the
  other replica within a second (the store's bus, Redis pub/sub);
- Redis answering slowly, then not at all, then back: health and other users' pages keep
  answering fast, requests that need the store get a 503 (never a hang), and the sessions
  are intact afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import requests

from .harness import run_app
from .redis_server import run_redis
from .test_session_lifecycle import OLD_SECRET, make_app, password, sign_in, who

#: Streamlit's own ``server.cookieSecret``, the same on both replicas (its CLI refuses the flag).
STREAMLIT_SECRET = {"STREAMLIT_SERVER_COOKIE_SECRET": "replicas-streamlit-cookie-secret-0123456789"}
#: The figure the issue asks for, and the assertion (slack for a loaded CI machine).
BUS_TARGET, BUS_LIMIT = 1.0, 1.5
HEALTH_LIMIT = 0.5
#: How long Redis stops answering in the 'slow' phase (CLIENT PAUSE).
PAUSE_MS = 8000


def jar(context) -> dict[str, str]:
    return {c["name"]: c["value"] for c in context.cookies()}


def timed_get(url: str, cookies: dict[str, str] | None = None) -> tuple[float, requests.Response]:
    started = time.monotonic()
    response = requests.get(url, cookies=cookies, timeout=15, headers={"Accept": "application/json"})
    return time.monotonic() - started, response


def health_times(app, count: int = 5) -> list[float]:
    times = []
    for _ in range(count):
        elapsed, response = timed_get(app.url("/_stcore/health"))
        assert response.status_code == 200 and response.text == "ok"
        times.append(elapsed)
    return times


def test_sign_in_and_out_reach_the_open_tab_on_the_other_replica(context, tmp_path, generation):
    with run_redis(tmp_path) as redis_url:
        app_dir = make_app(tmp_path, secrets=f'cookie_secrets = ["{OLD_SECRET}"]', store=redis_url)
        with run_app(app_dir, generation=generation, tmp_path=tmp_path, env=STREAMLIT_SECRET) as one, \
                run_app(app_dir, generation=generation, tmp_path=tmp_path, env=STREAMLIT_SECRET) as two:
            # Cookies are per host: both tabs share the browser's jar, Streamlit's XSRF cookie included.
            on_two = context.new_page()
            on_two.goto(two.url("/"))
            on_two.get_by_text("logged-in=False").wait_for()
            on_one = context.new_page()
            answered: dict[str, float] = {}     # when replica 1's redirect reached the browser
            on_one.on("response", lambda r: answered.setdefault(urlsplit(r.url).path, time.monotonic())
                      if 300 <= r.status < 400 else None)
            sent: dict[str, float] = {}         # when the browser sent the request
            on_one.on("request", lambda r: sent.setdefault(urlsplit(r.url).path, time.monotonic()))
            on_one.goto(one.url("/auth/login?next=/"))
            on_one.fill("#username", "alice")
            on_one.fill("#password", password("alice"))
            on_one.click("button[type=submit]")
            on_two.get_by_text(who("alice")).wait_for(timeout=5000)
            signed_in_on_two = time.monotonic()
            on_one.get_by_text(who("alice")).wait_for()

            on_one.evaluate("url => { window.location.href = url; }", one.url("/auth/logout"))  # a link in the app
            on_two.get_by_text("logged-in=False").wait_for(timeout=5000)
            signed_out_on_two = time.monotonic()
            on_one.get_by_text("logged-in=False").wait_for()
    # Sign-in: from replica 1's redirect (sent right after it publishes) to tab 2 showing the
    # user. Sign-out: from the browser sending the logout (replica 1 revokes, publishes, then
    # looks up the provider's logout URL before answering) to tab 2 showing a visitor.
    sign_in_latency = signed_in_on_two - answered["/auth/login"]
    sign_out_latency = signed_out_on_two - sent["/auth/logout"]
    print(f"\nbus latency, replica 1 -> open tab on replica 2: sign-in {sign_in_latency * 1000:.0f} ms "
          f"(after the redirect), sign-out {sign_out_latency * 1000:.0f} ms (after the request was sent), "
          f"target < {BUS_TARGET:.0f} s")
    assert sign_in_latency < BUS_LIMIT and sign_out_latency < BUS_LIMIT


def test_redis_slow_then_down_then_back(browser, context, tmp_path, generation):
    with run_redis(tmp_path) as redis_url:
        redis_port = str(urlsplit(redis_url).port)
        redis_pid = int((tmp_path / "redis.pid").read_text())
        app_dir = make_app(tmp_path, secrets=f'cookie_secret = "{OLD_SECRET}"', store=redis_url)
        with run_app(app_dir, generation=generation, tmp_path=tmp_path, env={"STREAMLIT_AUTH_MAINTENANCE_SECONDS": "1"}) as app, \
                ThreadPoolExecutor(2) as pool:
            page = sign_in(context, app)
            cookies = jar(context)
            anonymous = browser.new_context()
            try:
                # 1. Redis answers slowly: every call waits for the pause to end (8 s, past
                # the store's 2 s timeout); a signed-in request is stuck on it meanwhile.
                subprocess.run(["redis-cli", "-p", redis_port, "CLIENT", "PAUSE", str(PAUSE_MS), "ALL"], check=True,
                               capture_output=True)
                paused = time.monotonic()
                stuck = pool.submit(timed_get, app.url("/auth/userinfo"), cookies)
                time.sleep(0.2)
                slow_health = health_times(app)
                visitor = anonymous.new_page()
                visitor.goto(app.url("/"))
                visitor.get_by_text("logged-in=False").wait_for()
                visitor_seconds = time.monotonic() - paused
                assert visitor_seconds < PAUSE_MS / 1000, "the visitor's page waited for Redis"
                stuck_seconds, stuck_response = stuck.result(timeout=15)
                assert stuck_response.status_code in (200, 503)

                # 2. Redis stops answering (SIGSTOP: connections open, no replies, data kept).
                os.kill(redis_pid, signal.SIGSTOP)
                try:
                    pending = pool.submit(timed_get, app.url("/auth/userinfo"), cookies)
                    time.sleep(0.2)
                    down_health = health_times(app)
                    down_seconds, down = pending.result(timeout=15)
                    assert down.status_code == 503, down.text
                    assert down.headers.get("Retry-After") and "unavailable" in down.json()["error"]
                    assert "stauth_session" not in down.headers.get("Set-Cookie", "")   # the session is kept
                    assert down_seconds < 4, f"a store request took {down_seconds:.1f} s with Redis down"
                    public = context.new_page()            # the signed-in browser opens a public page
                    public.goto(app.url("/"))
                    public.get_by_text("logged-in=False").wait_for()  # served, as a visitor for now
                    html = context.new_page()
                    html.goto(app.url("/auth/userinfo"))
                    html.get_by_text("the session store cannot be reached").wait_for()
                finally:
                    os.kill(redis_pid, signal.SIGCONT)

                # 3. Redis is back: the same cookie is the same user again, nothing was lost.
                deadline = time.monotonic() + 10
                while (back := requests.get(app.url("/auth/userinfo"), cookies=cookies, timeout=15)).status_code != 200:
                    assert time.monotonic() < deadline, f"still {back.status_code} after Redis returned"
                    time.sleep(0.2)
                assert back.json()["id"] == "local|alice"
                public.get_by_text(who("alice")).wait_for()  # the tab opened during the outage, unreloaded
                page.reload()
                page.get_by_text(who("alice")).wait_for()

                # 4. Redis is gone (connections refused): a quick 503, health unaffected.
                subprocess.run(["redis-cli", "-p", redis_port, "shutdown", "nosave"], capture_output=True)
                gone_seconds, gone = timed_get(app.url("/auth/userinfo"), cookies)
                assert gone.status_code == 503 and gone_seconds < 4, (gone.status_code, gone_seconds)
                gone_health = health_times(app)
            finally:
                anonymous.close()
    print(f"\nRedis paused ({PAUSE_MS / 1000:.0f} s): /_stcore/health max {max(slow_health) * 1000:.0f} ms, "
          f"an anonymous page rendered {visitor_seconds:.2f} s into the pause, "
          f"a signed-in request answered {stuck_response.status_code} after {stuck_seconds:.2f} s")
    print(f"Redis stopped: /_stcore/health max {max(down_health) * 1000:.0f} ms, /auth/userinfo 503 after "
          f"{down_seconds:.2f} s; back: signed in again")
    print(f"Redis shut down: /_stcore/health max {max(gone_health) * 1000:.0f} ms, /auth/userinfo 503 after "
          f"{gone_seconds:.2f} s")
    assert max(slow_health + down_health + gone_health) < HEALTH_LIMIT
