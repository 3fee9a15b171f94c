"""The TOTP second factor in Chromium against ``streamlit-auth run``: set up on the account
page (the secret read from the page, codes computed with pyotp; the current password
required, a wrong one refused), then sign-in asks for a
code; a code already used is refused; a recovery code works; and with
``require_second_factor = true`` a password sign-in cannot end before a second factor is
set up."""

from __future__ import annotations

import re
import shutil
import time
from contextlib import contextmanager

import pyotp
import pytest

from stauth_server.core.accounts.totp import INTERVAL
from stauth_server.core.sources.local import LocalAccount, UsersFile, hash_password

from .harness import APPS, run_app
from .test_sign_in import SECRET, write_secrets

pytestmark = pytest.mark.generations("st156", "st167")

PASSWORD = "tina-local-password"
SIGNED_IN = "who=Tina Totp provider=local"


@contextmanager
def portal_app(tmp_path_factory, generation, name: str, local_extra: str = ""):
    tmp = tmp_path_factory.mktemp(name)
    app_dir = tmp / "app"
    shutil.copytree(APPS / "login_page", app_dir)
    UsersFile(app_dir / "users.toml").save([LocalAccount("tina", hash_password(PASSWORD), "tina@example.org",
                                                         "Tina Totp")])
    write_secrets(app_dir, f'[auth]\ncookie_secret = "{SECRET}"\n[auth.local]\nusers_file = "users.toml"\n'
                           f"{local_extra}")
    with run_app(app_dir, "sales_portal.py", generation=generation, tmp_path=tmp) as app:
        app.users = UsersFile(app_dir / "users.toml")
        yield app


@pytest.fixture(scope="module")
def portal(tmp_path_factory, generation):
    with portal_app(tmp_path_factory, generation, "totp") as app:
        yield app


@pytest.fixture(scope="module")
def strict_portal(tmp_path_factory, generation):
    with portal_app(tmp_path_factory, generation, "totp-required", "require_second_factor = true\n") as app:
        yield app


def password_step(context, app):
    page = context.new_page()
    page.goto(app.url("/auth/login"))
    page.fill("#username", "tina")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    return page


def code(secret: str, steps_from_now: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + steps_from_now * INTERVAL)


def enrol_on(page, password: str | None = None) -> tuple[str, list[str]]:
    """Fill the set-up form shown on ``page``: the secret it shows, the recovery codes it gives.
    ``password``: the current password the account page asks for (the sign-in step does not)."""
    secret = page.locator("#totp-secret").inner_text()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    link = page.locator("#totp-link").get_attribute("href")
    assert link.startswith("otpauth://totp/") and f"secret={secret}" in link and "issuer=Sales%20Portal" in link
    assert page.locator("svg.qr").count() == 1
    page.fill("#totp-code", code(secret))
    if password is None:
        assert page.locator("#totp-enrol-password").count() == 0
    else:
        page.fill("#totp-enrol-password", password)
    page.click("text=Turn on two-factor authentication")
    page.locator("#recovery-codes").wait_for()
    codes = page.locator("#recovery-codes li").all_inner_texts()
    return secret, codes


def test_enrol_on_the_account_page_then_sign_in_with_codes(browser, portal):
    context = browser.new_context()
    try:
        password_step(context, portal).get_by_text(SIGNED_IN).wait_for()
        page = context.new_page()
        page.goto(portal.url("/auth/account"))
        page.get_by_text("Set up two-factor authentication").wait_for()
        shown = page.locator("#totp-secret").inner_text()
        page.fill("#totp-code", code(shown))
        page.fill("#totp-enrol-password", "not-tinas-password")  # a session alone cannot turn it on
        page.click("text=Turn on two-factor authentication")
        page.get_by_text("Your current password is not right.").wait_for()
        assert not portal.users.accounts()["tina"].has_second_factor
        secret, recovery = enrol_on(page, PASSWORD)
        assert secret == shown and len(set(recovery)) == 10
        page.goto(portal.url("/auth/logout"))
        assert context.request.get(portal.url("/auth/userinfo")).status == 401
    finally:
        context.close()

    used = code(secret, 1)  # the enrolment used the current step: the next one is fresh
    first = browser.new_context()
    try:
        page = password_step(first, portal)
        page.get_by_text("Enter the code from your authenticator app").wait_for()
        assert first.request.get(portal.url("/auth/userinfo")).status == 401  # the password alone: signed out
        page.fill("#totp-code", used)
        page.click("button[type=submit]")
        page.get_by_text(SIGNED_IN).wait_for()
    finally:
        first.close()

    second = browser.new_context()
    try:
        page = password_step(second, portal)
        page.fill("#totp-code", used)  # the same code again: replayed
        page.click("button[type=submit]")
        page.get_by_text("That code is not right, or was already used.").wait_for()
        assert second.request.get(portal.url("/auth/userinfo")).status == 401
        page.fill("#totp-code", recovery[0])
        page.click("button[type=submit]")
        page.get_by_text(SIGNED_IN).wait_for()
    finally:
        second.close()

    third = browser.new_context()
    try:
        page = password_step(third, portal)
        page.fill("#totp-code", recovery[0])  # a recovery code works once
        page.click("button[type=submit]")
        page.get_by_text("That code is not right, or was already used.").wait_for()
    finally:
        third.close()


def test_a_required_second_factor_is_set_up_at_sign_in(browser, strict_portal):
    context = browser.new_context()
    try:
        page = password_step(context, strict_portal)
        page.get_by_text("Two-factor authentication required").wait_for()
        assert context.request.get(strict_portal.url("/auth/userinfo")).status == 401
        page.goto(strict_portal.url("/"))  # leaving the step does not sign in
        assert context.request.get(strict_portal.url("/auth/userinfo")).status == 401
        page = password_step(context, strict_portal)
        page.get_by_text("Two-factor authentication required").wait_for()
        secret, recovery = enrol_on(page)
        assert len(recovery) == 10
        page.click("#continue")
        page.get_by_text(SIGNED_IN).wait_for()
    finally:
        context.close()
    again = browser.new_context()
    try:
        page = password_step(again, strict_portal)
        page.get_by_text("Enter the code from your authenticator app").wait_for()
        page.fill("#totp-code", code(secret, 1))
        page.click("button[type=submit]")
        page.get_by_text(SIGNED_IN).wait_for()
    finally:
        again.close()
