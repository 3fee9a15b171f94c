"""End to end on Streamlit 1.67 (the Starlette/uvicorn server generation), in Chromium.

Runs ``.venv-st167``'s ``streamlit-auth run`` (built by scripts/setup-test-env.sh): the login
page, password sign-in, ``st.user`` from our session on the websocket, ``/auth/userinfo``,
``sa.cookies.set``, an ``@sa.route`` endpoint, logout, and uvicorn's proxy headers off.
"""

from __future__ import annotations

import shutil
from contextlib import contextmanager
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from .harness import APPS, run_app, wait_for_cookie
from .test_sign_in import SECRET, write_secrets

PASSWORD = "alice-password-123"


pytestmark = pytest.mark.generations("st167")


@contextmanager
def starlette_gen_app(tmp_path_factory, generation, name: str = "st167", extra_args: tuple[str, ...] = ()):
    """``apps/starlette_gen`` with alice as a local account, served by ``generation``."""
    tmp = tmp_path_factory.mktemp(name)
    app_dir = tmp / "app"
    shutil.copytree(APPS / "starlette_gen", app_dir)
    subprocess.run([sys.executable, "-m", "stauth_server", "users", "add", "users.toml", "alice",
                    "--email", "alice@corp.test", "--name", "Alice", "--password-stdin"],
                   cwd=app_dir, input=PASSWORD + "\n", text=True, check=True, capture_output=True)
    write_secrets(app_dir, f"""
[auth]
cookie_secret = "{SECRET}"
routes = ["api.py"]

[auth.local]
users_file = "users.toml"
""")
    with run_app(app_dir, generation=generation, tmp_path=tmp, extra_args=list(extra_args)) as running:
        yield running


@pytest.fixture(scope="module")
def app(tmp_path_factory, generation):
    with starlette_gen_app(tmp_path_factory, generation) as running:
        yield running


def test_version_names_the_starlette_server(generation):
    result = subprocess.run([*generation.command, "--version"], capture_output=True, text=True, check=True)
    assert "Streamlit 1.67.0: Starlette server" in result.stdout


def test_sign_in_identity_cookies_route_and_logout(context, app):
    page = context.new_page()
    page.goto(app.url("/"))
    page.get_by_text("st-user=anonymous").wait_for()

    login = page.goto(app.url("/auth/login?next=/"))
    assert login.status == 200
    assert "frame-ancestors" in (login.headers.get("content-security-policy") or "")   # ours, not native's
    page.fill("#username", "alice")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.get_by_text("st-user=alice@corp.test logged-in=True").wait_for()   # identity on the websocket
    page.get_by_text("sa-user=Alice").wait_for()

    userinfo = page.request.get(app.url("/auth/userinfo"))
    assert userinfo.status == 200
    assert userinfo.json()["email"] == "alice@corp.test"

    page.get_by_role("button", name="set-cookie").click()
    page.get_by_text("cookie-set-done").wait_for()
    theme = wait_for_cookie(context, page, "theme")
    assert theme is not None and theme["value"] == "dark" and theme["httpOnly"] is True

    whoami = page.request.get(app.url("/api/whoami"))
    assert whoami.status == 200
    assert whoami.json() == {"user": "Alice", "client_ip": "127.0.0.1"}

    page.goto(app.url("/auth/logout"))
    page.goto(app.url("/"))
    page.get_by_text("st-user=anonymous").wait_for()
    assert page.request.get(app.url("/auth/userinfo")).status == 401
    assert page.request.get(app.url("/api/whoami")).json()["user"] is None


def test_forged_forwarded_for_does_not_change_the_client(app):
    answer = requests.get(app.url("/api/whoami"), headers={"X-Forwarded-For": "203.0.113.9",
                                                           "X-Forwarded-Proto": "https"}, timeout=5)
    assert answer.status_code == 200
    assert answer.json()["client_ip"] == "127.0.0.1"


def test_streamlit_itself_still_answers_behind_the_front(app):
    assert requests.get(app.url("/_stcore/health"), timeout=5).text == "ok"
    assert requests.get(app.url("/"), timeout=5).status_code == 200


# --- options new in the Starlette generation: server.allowedHosts (1.61+), xsrfCookieSameSite (1.59+)


@pytest.fixture(scope="module")
def guarded(app, tmp_path_factory, generation):
    """The same app with ``server.allowedHosts = ["localhost"]`` and a Strict XSRF cookie."""
    tmp = tmp_path_factory.mktemp("st167-hosts")
    app_dir = tmp / "app"
    shutil.copytree(Path(app.log_path).parent / "app", app_dir)
    with run_app(app_dir, generation=generation, tmp_path=tmp,
                 extra_args=["--server.allowedHosts", "localhost", "--server.xsrfCookieSameSite", "strict"]) as running:
        yield running


@pytest.mark.parametrize("path", ["/auth/login", "/api/whoami", "/auth/userinfo"])
def test_a_host_outside_allowed_hosts_gets_a_400_from_our_endpoints(guarded, path):
    """A DNS-rebinding page (its own name resolving to 127.0.0.1) never reaches our endpoints."""
    refused = requests.get(guarded.url(path), headers={"Host": f"rebound.attacker.test:{guarded.port}"}, timeout=5)
    assert refused.status_code == 400
    assert "Host not allowed" in refused.text and "Traceback" not in refused.text
    assert requests.get(guarded.url(path, host="localhost"), timeout=5).status_code in (200, 401)


def test_the_login_page_mints_the_xsrf_cookie_with_the_configured_samesite(guarded):
    page = requests.get(guarded.url("/auth/login", host="localhost"), timeout=5)
    assert page.status_code == 200
    minted = [c for c in page.raw.headers.getlist("Set-Cookie") if c.startswith("_streamlit_xsrf=")]
    assert minted and "SameSite=Strict" in minted[0]


def websocket_handshake(port: int, path: str, host: str) -> str:
    """The status line a raw websocket handshake to ``path`` with ``Host: host`` gets."""
    import base64
    import os
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        return sock.recv(4096).decode("latin-1").split("\r\n", 1)[0]


def test_a_websocket_to_an_asgi_mount_from_a_host_outside_allowed_hosts_is_refused(guarded):
    refused = websocket_handshake(guarded.port, "/api/echo-ws", f"rebound.attacker.test:{guarded.port}")
    assert " 403 " in refused + " ", refused
    accepted = websocket_handshake(guarded.port, "/api/echo-ws", f"localhost:{guarded.port}")
    assert " 101 " in accepted + " ", accepted


def test_an_asgi_mount_serves_websockets(app):
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{app.port}/api/echo-ws", open_timeout=5) as socket_:
        socket_.send("hi")
        assert socket_.recv(timeout=5) == "echo:hi"
