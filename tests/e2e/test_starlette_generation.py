"""End to end on Streamlit 1.67 (the Starlette/uvicorn server generation), in Chromium.

Runs ``.venv-st167``'s ``streamlit-auth run`` (built by scripts/setup-test-env.sh): the login
page, password sign-in, ``st.user`` from our session on the websocket, ``/auth/userinfo``,
``sa.cookies.set``, an ``@sa.route`` endpoint, logout, and uvicorn's proxy headers off.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from .harness import APPS, run_app, wait_for_cookie
from .test_sign_in import SECRET, write_secrets

VENV = Path(__file__).resolve().parents[2] / ".venv-st167"
STREAMLIT_AUTH = VENV / "bin" / "streamlit-auth"
PASSWORD = "alice-password-123"


pytestmark = pytest.mark.generations("st167")


@pytest.fixture(scope="module")
def app(tmp_path_factory, generation):
    tmp = tmp_path_factory.mktemp("st167")
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
    with run_app(app_dir, generation=generation, tmp_path=tmp) as running:
        yield running


def test_version_names_the_starlette_server():
    result = subprocess.run([str(STREAMLIT_AUTH), "--version"], capture_output=True, text=True, check=True)
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
