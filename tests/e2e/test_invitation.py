"""An invitation end to end: ``streamlit-auth users invite --app`` e-mails a link through a
real SMTP server on loopback; the person opens it in Chromium, sets a password and is
signed in to the running app; the link works once; the new password signs in later."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from stauth_server.core.sources.local import LocalAccount, UsersFile, hash_password

from .harness import APPS, free_port, run_app
from .smtp_sink import smtp_sink
from .test_sign_in import SECRET, write_secrets

pytestmark = pytest.mark.generations("st156", "st167")

PASSWORD = "zoe-chose-this-passphrase"


@pytest.fixture(scope="module")
def sink():
    with smtp_sink() as running:
        yield running


@pytest.fixture(scope="module")
def portal(tmp_path_factory, generation, sink):
    tmp = tmp_path_factory.mktemp("invite")
    app_dir = tmp / "app"
    shutil.copytree(APPS / "login_page", app_dir)
    UsersFile(app_dir / "users.toml").save([LocalAccount("lucy", hash_password("lucy-local-password"))])
    port = free_port()
    write_secrets(app_dir, f'[auth]\ncookie_secret = "{SECRET}"\n'
                           f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
                           f'[auth.local]\nusers_file = "users.toml"\n'
                           f'[auth.smtp]\nhost = "127.0.0.1"\nport = {sink.port}\nstarttls = false\n'
                           f'sender = "portal@example.org"\n')
    with run_app(app_dir, "sales_portal.py", generation=generation, tmp_path=tmp, port=port) as app:
        yield app, app_dir, generation, tmp


def test_an_invited_person_sets_a_password_from_the_e_mail_and_is_signed_in(browser, portal, sink):
    app, app_dir, generation, tmp = portal
    before = len(sink.received)
    done = subprocess.run([*generation.command, "users", "invite", str(app_dir / "users.toml"), "zoe@example.org",
                           "--name", "Zoe Invited", "--role", "sales", "--app", str(app_dir / "sales_portal.py")],
                          cwd=tmp, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr + done.stdout
    received = sink.wait_for(before + 1)[before]
    assert received.rcpt_tos == ("zoe@example.org",) and "Sales Portal" in received.message["Subject"]
    [link] = received.links
    assert link.startswith(app.url("/auth/invite?token=")) and link in done.stdout
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(link)
        assert page.locator("h1").inner_text() == "Set your password"
        page.fill("#new", PASSWORD)
        page.click("button[type=submit]")
        page.get_by_text("who=Zoe Invited provider=local email=zoe@example.org roles=sales").wait_for()
        again = page.goto(link)
        assert again.status == 400 and "This link is invalid or has expired." in page.inner_text("main")
    finally:
        context.close()
    fresh = browser.new_context()
    try:
        page = fresh.new_page()
        page.goto(app.url("/auth/login"))
        page.fill("#username", "zoe@example.org")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.get_by_text("who=Zoe Invited provider=local").wait_for()
    finally:
        fresh.close()
