"""Local accounts, roles, page rules, guards, hooks and throttling, end to end."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import requests

from .harness import APPS, run_app
from .test_sign_in import SECRET, write_secrets

USERS = {"alice": ("alice@corp.test", "admin"), "bob": ("bob@example.org", None),
         "carol": ("carol@corp.test", None), "mallory": ("mallory@corp.test", None)}


def password(user: str) -> str:
    return f"{user}-password-123"


@pytest.fixture(scope="module")
def rbac(tmp_path_factory, generation):
    tmp = tmp_path_factory.mktemp("rbac")
    app_dir = tmp / "app"
    shutil.copytree(APPS / "rbac", app_dir)
    for user, (email, role) in USERS.items():
        cmd = [sys.executable, "-m", "stauth_server", "users", "add", "users.toml", user, "--email", email,
               "--name", user.title(), "--password-stdin"] + (["--role", role] if role else [])
        subprocess.run(cmd, cwd=app_dir, input=password(user) + "\n", text=True, check=True, capture_output=True)
    write_secrets(app_dir, f"""
[auth]
cookie_secret = "{SECRET}"
routes = ["api.py"]
require_login = true
login_template = "login.html"
on_login = "api.py:stamp"

[auth.local]
users_file = "users.toml"

[auth.roles]
editor = ["domain:example.org"]

[auth.access]
staff = ["admin"]
about = "public"
""")
    with run_app(app_dir, generation=generation, tmp_path=tmp) as app:
        yield app


def sign_in(context, app, user: str, secret: str | None = None, path: str = "/"):
    page = context.new_page()
    page.goto(app.url(f"/auth/login?next={path}"))
    page.fill("#username", user)
    page.fill("#password", secret or password(user))
    page.click("button[type=submit]")
    return page


def test_visitors_must_sign_in_except_on_public_pages(context, rbac):
    page = context.new_page()
    page.goto(rbac.url("/"))
    page.wait_for_url("**/auth/login**")
    page.get_by_role("heading", name="RBAC portal").wait_for()   # the custom login template
    assert page.locator("#username").get_attribute("autocomplete") == "username"
    assert page.locator("#password").get_attribute("autocomplete") == "current-password"
    public = context.new_page()
    public.goto(rbac.url("/about"))
    public.get_by_text("about-page-public").wait_for()


def test_admin_sees_and_opens_the_admin_page_and_guarded_function(context, rbac):
    page = sign_in(context, rbac, "alice")
    page.get_by_text("user=Alice roles=admin").wait_for()
    page.get_by_text("secret-shown").wait_for()
    page.get_by_text("st-user-roles=admin").wait_for()
    page.get_by_text("via=local").wait_for()            # the hook named in config ran too
    assert page.get_by_role("link", name="staff").count() == 1
    page.goto(rbac.url("/staff"))
    page.get_by_text("staff-page").wait_for()


def test_a_user_without_the_role_cannot_see_or_type_the_page(context, rbac):
    page = sign_in(context, rbac, "bob")
    page.get_by_text("user=Bob roles=editor").wait_for()
    page.get_by_text("secret-skipped").wait_for()
    assert page.get_by_role("link", name="staff").count() == 0
    typed = context.new_page()
    typed.goto(rbac.url("/staff"))
    typed.get_by_text("403 Forbidden").wait_for()
    assert typed.get_by_text("staff-page").count() == 0


def test_require_in_a_script_lets_the_role_in_and_stops_others(context, rbac):
    bob = sign_in(context, rbac, "bob", path="/editor")
    bob.get_by_text("editor-page").wait_for()   # editor via domain:example.org, back on /editor
    assert bob.url == rbac.url("/editor")


def test_require_shows_a_403_view_to_a_user_without_the_role(browser, rbac):
    context = browser.new_context()
    try:
        page = sign_in(context, rbac, "alice")
        page.get_by_text("user=Alice").wait_for()
        editor = context.new_page()
        editor.goto(rbac.url("/editor"))
        editor.get_by_text("403 Forbidden").wait_for()
        assert editor.get_by_text("editor-page").count() == 0
    finally:
        context.close()


def test_hooks_add_roles_once_per_sign_in_and_can_refuse(context, rbac):
    before = len(requests.get(rbac.url("/api/hook-calls"), timeout=5).json())
    page = sign_in(context, rbac, "carol")
    page.get_by_text("user=Carol roles=beta").wait_for()
    page.get_by_role("button", name="rerun").click()
    page.get_by_text("runs=2").wait_for()
    calls = requests.get(rbac.url("/api/hook-calls"), timeout=5).json()
    assert len(calls) == before + 1
    refused = sign_in(context, rbac, "mallory")
    refused.get_by_text("Mallory may not sign in here.").wait_for()
    assert refused.request.get(rbac.url("/auth/userinfo")).json()["name"] == "Carol"


def test_the_form_works_without_javascript(browser, rbac):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(rbac.url("/auth/login"))
        page.fill("#username", "carol")
        page.fill("#password", password("carol"))
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert any(c["name"] == "stauth_session" and c["httpOnly"] for c in context.cookies())
        assert context.request.get(rbac.url("/auth/userinfo")).json()["name"] == "Carol"
    finally:
        context.close()


def test_wrong_password_and_unknown_user_read_the_same_then_get_throttled(context, rbac):
    """Last in the module: it leaves this address throttled for a while."""
    page = sign_in(context, rbac, "alice", secret="wrong-one")
    page.get_by_text("Wrong username or password.").wait_for()
    unknown = sign_in(context, rbac, "nobody-here")
    unknown.get_by_text("Wrong username or password.").wait_for()
    form = context.new_page()
    form.goto(rbac.url("/auth/login"))
    token = form.locator("input[name=_xsrf]").get_attribute("value")

    def attempt(secret: str) -> int:
        return context.request.post(rbac.url("/auth/login"), max_redirects=0, form={
            "_xsrf": token, "username": "alice", "password": secret, "next": "/"}).status

    statuses = [attempt("wrong-again") for _ in range(3)]
    assert statuses[-1] == 429 and 401 in statuses
    assert attempt(password("alice")) == 429   # even the right password waits
