"""A single-file app (no ``pages/`` folder, no ``st.navigation``) gets page rules and
middlewares too: ``require_login`` sends a visitor to sign in before the script runs, and a
middleware refuses a page run with the 403 view (streamlit.internals
``route_single_file_app_through_navigation``)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from .harness import APPS, run_app
from .test_sign_in import SECRET, write_secrets

PASSWORD = "alice-password-123"


@pytest.fixture(scope="module")
def app(tmp_path_factory, generation):
    tmp = tmp_path_factory.mktemp("single-file")
    app_dir = tmp / "app"
    shutil.copytree(APPS / "single_file", app_dir)
    subprocess.run([sys.executable, "-m", "stauth_server", "users", "add", "users.toml", "alice",
                    "--name", "Alice", "--password-stdin"],
                   cwd=app_dir, input=PASSWORD + "\n", text=True, check=True, capture_output=True)
    write_secrets(app_dir, f"""
[auth]
cookie_secret = "{SECRET}"
routes = ["api.py"]
require_login = true

[auth.local]
users_file = "users.toml"
""")
    with run_app(app_dir, generation=generation, tmp_path=tmp) as running:
        yield running


def test_require_login_sends_a_visitor_to_sign_in_before_the_script_runs(context, app):
    page = context.new_page()
    page.goto(app.url("/"))
    page.wait_for_url("**/auth/login**")
    assert page.get_by_text("single-file-secret").count() == 0


def test_a_signed_in_user_sees_the_page_and_a_middleware_can_refuse_it(context, app):
    page = context.new_page()
    page.goto(app.url("/auth/login?next=/"))
    page.fill("#username", "alice")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.get_by_text("single-file-secret user=Alice").wait_for()
    blocked = context.new_page()
    blocked.goto(app.url("/?block=1"))
    blocked.get_by_text("403 Forbidden").wait_for()
    assert blocked.get_by_text("single-file-secret").count() == 0
