"""The account page in Chromium against ``streamlit-auth run``: a local user changes their
password; their session in another browser ends, this one goes on; the old password no
longer signs in."""

from __future__ import annotations

import shutil

import pytest

from stauth_server.core.sources.local import LocalAccount, UsersFile, hash_password

from .harness import APPS, run_app
from .test_sign_in import SECRET, write_secrets

pytestmark = pytest.mark.generations("st156", "st167")

OLD = "lucy-local-password"
NEW = "lucy-brand-new-passphrase"


@pytest.fixture(scope="module")
def portal(tmp_path_factory, generation):
    tmp = tmp_path_factory.mktemp("account")
    app_dir = tmp / "app"
    shutil.copytree(APPS / "login_page", app_dir)
    UsersFile(app_dir / "users.toml").save([LocalAccount("lucy", hash_password(OLD), "lucy@example.org", "Lucy Local")])
    write_secrets(app_dir, f'[auth]\ncookie_secret = "{SECRET}"\n[auth.local]\nusers_file = "users.toml"\n')
    with run_app(app_dir, "sales_portal.py", generation=generation, tmp_path=tmp) as app:
        yield app


def sign_in(context, app, password):
    page = context.new_page()
    page.goto(app.url("/auth/login"))
    page.fill("#username", "lucy")
    page.fill("#password", password)
    page.click("button[type=submit]")
    return page


def test_a_password_change_ends_the_other_session_and_keeps_this_one(browser, portal):
    here, elsewhere = browser.new_context(), browser.new_context()
    try:
        sign_in(here, portal, OLD).get_by_text("who=Lucy Local provider=local").wait_for()
        sign_in(elsewhere, portal, OLD).get_by_text("who=Lucy Local provider=local").wait_for()
        page = here.new_page()
        page.goto(portal.url("/auth/account"))
        assert page.locator("h1").inner_text() == "Your account"
        page.fill("#current", OLD)
        page.fill("#new", NEW)
        page.click("button[type=submit]")
        page.get_by_text("Your password was changed. Your other sessions have ended.").wait_for()
        assert page.request.get(portal.url("/auth/userinfo")).status == 200
        assert elsewhere.request.get(portal.url("/auth/userinfo")).status == 401
        page.goto(portal.url("/"))
        page.get_by_text("who=Lucy Local provider=local").wait_for()
    finally:
        here.close()
        elsewhere.close()
    fresh = browser.new_context()
    try:
        refused = sign_in(fresh, portal, OLD)
        refused.get_by_text("Wrong username or password.").wait_for()
        sign_in(fresh, portal, NEW).get_by_text("who=Lucy Local provider=local").wait_for()
    finally:
        fresh.close()
