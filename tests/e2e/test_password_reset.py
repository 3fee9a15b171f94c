"""Password reset by e-mail in Chromium against ``streamlit-auth run``, through a real SMTP
server on loopback: "Forgot your password?" -> the message the server received -> its link
-> a new password. The old password is refused, the new one signs in, a session already
open elsewhere ended, the link works once; an unknown user's request reads exactly like a
known one's and sends no mail."""

from __future__ import annotations

import shutil

import pytest

from stauth_server.core.sources.local import LocalAccount, UsersFile, hash_password
from stauth_server.web.recovery_pages import RESET_REQUESTED

from .harness import APPS, free_port, run_app
from .smtp_sink import smtp_sink
from .test_sign_in import SECRET, write_secrets

pytestmark = pytest.mark.generations("st156", "st167")

OLD = "lucy-local-password"
NEW = "lucy-reset-this-passphrase"
INVALID_LINK = "This link is invalid or has expired."
SIGNED_IN = "who=Lucy Local provider=local"


@pytest.fixture(scope="module")
def sink():
    with smtp_sink() as running:
        yield running


@pytest.fixture(scope="module")
def portal(tmp_path_factory, generation, sink):
    tmp = tmp_path_factory.mktemp("reset")
    app_dir = tmp / "app"
    shutil.copytree(APPS / "login_page", app_dir)
    UsersFile(app_dir / "users.toml").save([LocalAccount("lucy", hash_password(OLD), "lucy@example.org", "Lucy Local")])
    port = free_port()
    write_secrets(app_dir, f'[auth]\ncookie_secret = "{SECRET}"\n'
                           f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
                           f'[auth.local]\nusers_file = "users.toml"\n'
                           f'[auth.smtp]\nhost = "127.0.0.1"\nport = {sink.port}\nstarttls = false\n'
                           f'sender = "portal@example.org"\n')
    with run_app(app_dir, "sales_portal.py", generation=generation, tmp_path=tmp, port=port) as app:
        yield app


def sign_in(context, app, password):
    page = context.new_page()
    page.goto(app.url("/auth/login"))
    page.fill("#username", "lucy")
    page.fill("#password", password)
    page.click("button[type=submit]")
    return page


def ask_for_a_link(context, app, identifier) -> str:
    """The answer's text after asking "Forgot your password?" for ``identifier`` from the login page."""
    page = context.new_page()
    page.goto(app.url("/auth/login"))
    page.click("text=Forgot your password?")
    page.fill("#identifier", identifier)
    page.click("button[type=submit]")
    page.get_by_text(RESET_REQUESTED).wait_for()
    text = page.inner_text("main")
    page.close()
    return text


def test_a_reset_link_sets_a_new_password_once_and_ends_the_open_session(browser, portal, sink):
    before = len(sink.received)
    elsewhere, here = browser.new_context(), browser.new_context()
    try:
        sign_in(elsewhere, portal, OLD).get_by_text(SIGNED_IN).wait_for()
        ask_for_a_link(here, portal, "lucy@example.org")
        received = sink.wait_for(before + 1)[before]
        assert received.rcpt_tos == ("lucy@example.org",)
        [link] = received.links
        assert link.startswith(portal.url("/auth/reset?token="))
        page = here.new_page()
        page.goto(link)
        assert page.locator("h1").inner_text() == "Choose a new password"
        page.fill("#new", NEW)
        page.click("button[type=submit]")
        page.get_by_text("Your password was changed. Sign in with it.").wait_for()
        assert elsewhere.request.get(portal.url("/auth/userinfo")).status == 401
        again = page.goto(link)
        assert again.status == 400 and INVALID_LINK in page.inner_text("main")
    finally:
        here.close()
        elsewhere.close()
    assert link.split("token=")[1] not in portal.log()  # with [auth.smtp], no link reaches the log
    fresh = browser.new_context()
    try:
        sign_in(fresh, portal, OLD).get_by_text("Wrong username or password.").wait_for()
        sign_in(fresh, portal, NEW).get_by_text(SIGNED_IN).wait_for()
    finally:
        fresh.close()


def test_an_unknown_user_reads_exactly_like_a_known_one_and_gets_no_mail(browser, portal, sink):
    context = browser.new_context()
    try:
        before = len(sink.received)
        unknown = ask_for_a_link(context, portal, "nobody@example.org")
        known = ask_for_a_link(context, portal, "lucy")
        assert unknown == known and RESET_REQUESTED in known
        sink.wait_for(before + 1)
        context.new_page().wait_for_timeout(1500)  # time for a mail to the unknown user, were one sent
        assert [r.rcpt_tos for r in sink.received[before:]] == [("lucy@example.org",)]
    finally:
        context.close()
