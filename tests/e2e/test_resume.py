"""A tab whose connection drops (a network blip) resumes its Streamlit session, and
``session_state`` with it, only as the same signed-in user; a session signed out meanwhile
is never resumed (Streamlit 1.67's ``st.logout`` rule, held on every generation).

The browser reaches the server through ``CuttableProxy``: cutting its connections drops the
websocket, and Streamlit's frontend reconnects naming its old session.
"""

from __future__ import annotations

import shutil

import pytest

from stauth_server.core.sources.local import LocalAccount, UsersFile, hash_password

from .harness import APPS, CuttableProxy, run_app
from .test_sign_in import SECRET, write_secrets

PASSWORD = "alice-password-123"


@pytest.fixture(scope="module")
def proxied(tmp_path_factory, generation):
    tmp = tmp_path_factory.mktemp("resume")
    app_dir = tmp / "app"
    shutil.copytree(APPS / "resume", app_dir)
    UsersFile(app_dir / "users.toml").save(
        [LocalAccount("alice", hash_password(PASSWORD), "alice@corp.test", "Alice", (), False)])
    write_secrets(app_dir, f"""
[auth]
cookie_secret = "{SECRET}"

[auth.local]
users_file = "users.toml"
""")
    with run_app(app_dir, generation=generation, tmp_path=tmp) as app:
        proxy = CuttableProxy(app.port)
        try:
            yield proxy
        finally:
            proxy.close()


def count_to(page, n: int) -> None:
    for i in range(1, n + 1):
        page.get_by_role("button", name="count").click()
        page.get_by_text(f"count={i}", exact=True).wait_for()


def blip(page, proxy: CuttableProxy, sockets: list) -> None:
    """Drop the connection and wait until the frontend has reconnected."""
    before = len(sockets)
    proxy.cut()
    for _ in range(100):
        if len(sockets) > before:
            break
        page.wait_for_timeout(100)
    assert len(sockets) > before, "the frontend did not reconnect"
    page.wait_for_timeout(500)


def sign_in(context, proxy):
    page = context.new_page()
    sockets: list = []
    page.on("websocket", lambda socket: sockets.append(socket))
    page.goto(proxy.url("/auth/login?next=/"))
    page.fill("#username", "alice")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.get_by_text("who=alice@corp.test").wait_for()
    return page, sockets


def test_the_same_user_resumes_their_session_state_after_a_blip(context, proxied):
    page, sockets = sign_in(context, proxied)
    count_to(page, 2)
    blip(page, proxied, sockets)
    page.get_by_role("button", name="count").click()
    page.get_by_text("count=3", exact=True).wait_for()   # session_state kept
    page.get_by_text("who=alice@corp.test").wait_for()


def test_a_tab_signed_out_elsewhere_never_resumes_its_old_session(context, proxied):
    page, sockets = sign_in(context, proxied)
    count_to(page, 2)
    other = context.new_page()
    other.goto(proxied.url("/auth/logout"))                # typed by the user: signs out at once
    page.get_by_text("who=-").wait_for()                   # the sign-out reached the open tab
    page.get_by_text("count=2", exact=True).wait_for()     # still the same live session
    blip(page, proxied, sockets)
    page.get_by_role("button", name="count").click()
    page.get_by_text("count=1", exact=True).wait_for()   # a fresh session: nothing carried over
    page.get_by_text("who=-").wait_for()
