"""Sign-in end to end: Chromium, a real ``streamlit-auth run``, a real OpenID Provider.

Everything runs twice: at the root and under a ``server.baseUrlPath``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import requests

from .harness import APPS, free_port, run_app
from .op import run_op, sign_in_at_op

SECRET = "an-e2e-cookie-secret-of-enough-length-0123456789"


def write_secrets(app_dir: Path, text: str) -> None:
    (app_dir / ".streamlit").mkdir(exist_ok=True)
    (app_dir / ".streamlit" / "secrets.toml").write_text(text)


@pytest.fixture(scope="module", params=["", "sub"], ids=["root", "base-path"])
def native(request, tmp_path_factory, generation):
    """The native-style app, one default provider, access tokens living 6 s."""
    base = request.param
    tmp = tmp_path_factory.mktemp("native")
    app_dir = tmp / "app"
    shutil.copytree(APPS / "native_login", app_dir)
    port = free_port()
    rp = f"http://127.0.0.1:{port}" + (f"/{base}" if base else "")
    with run_op(rp, tmp, access_ttl=6) as op:
        write_secrets(app_dir, f"""
[auth]
redirect_uri = "{rp}/oauth2callback"
cookie_secret = "{SECRET}"
client_id = "{op.client_id}"
client_secret = "{op.client_secret}"
server_metadata_url = "{op.metadata_url}"
expose_tokens = ["access"]
client_kwargs = {{ scope = "openid email profile groups offline_access", prompt = "consent" }}
""")
        with run_app(app_dir, routes=["api.py"], base_path=base, port=port, generation=generation, tmp_path=tmp,
                     env={"STREAMLIT_AUTH_MAINTENANCE_SECONDS": "2"}) as app:
            yield app, op


def log_in(context, app, path="/", user="alice"):
    page = context.new_page()
    page.goto(app.url(path))
    page.get_by_text("logged-in=False").wait_for()
    page.get_by_role("button", name="login").click()
    sign_in_at_op(page, user)
    page.get_by_text("logged-in=True").wait_for()
    return page


def test_login_puts_the_claims_on_st_user(context, native):
    app, _ = native
    page = log_in(context, app)
    page.get_by_text("email=alice@example.org").wait_for()
    page.get_by_text("name=Alice Example").wait_for()
    page.get_by_text("provider=default").wait_for()
    session = [c for c in context.cookies() if c["name"].startswith("stauth_session")]
    assert session and all(c["httpOnly"] and c["sameSite"] == "Lax" for c in session)
    assert all(c["path"] == (app.base_path or "/") for c in session)


def test_userinfo_and_custom_endpoints_see_the_same_identity(context, native):
    app, _ = native
    page = log_in(context, app)
    info = page.request.get(app.url("/auth/userinfo"))
    assert info.status == 200
    body = info.json()
    assert body["email"] == "alice@example.org" and "token" not in str(body).lower()
    me = page.request.get(app.url("/api/me"))
    assert me.status == 200 and me.json()["email"] == "alice@example.org"
    assert requests.get(app.url("/auth/userinfo"), timeout=5).status_code == 401
    assert requests.get(app.url("/api/me"), timeout=5, headers={"Accept": "application/json"}).status_code == 401


def test_a_visitor_browsing_to_a_protected_endpoint_is_sent_to_sign_in(context, native):
    app, _ = native
    page = context.new_page()
    page.goto(app.url("/api/me"))
    sign_in_at_op(page)
    assert '"email":"alice@example.org"' in page.inner_text("body").replace(" ", "")


def test_login_returns_to_the_page_where_it_started(context, native):
    app, _ = native
    page = context.new_page()
    page.goto(app.url("/reports"))
    page.get_by_text("reports-logged-in=False").wait_for()
    page.get_by_role("button", name="login-from-reports").click()
    sign_in_at_op(page)
    page.get_by_text("reports-logged-in=True").wait_for()
    assert page.url == app.url("/reports")


def test_login_honours_an_explicit_next(context, native):
    app, _ = native
    page = context.new_page()
    page.goto(app.url("/auth/login?next=/reports"))
    sign_in_at_op(page)
    page.get_by_text("reports-logged-in=True").wait_for()
    page.wait_for_timeout(7000)  # a token refresh reruns the page: it stays on /reports
    page.get_by_text("reports-logged-in=True").wait_for()
    assert page.url == app.url("/reports")
    evil = context.new_page()
    evil.goto(app.url("/auth/login?next=//evil.example/"))
    sign_in_at_op(evil)
    evil.get_by_text("logged-in=True").wait_for()
    assert evil.url == app.url("/")


def test_login_in_one_tab_reaches_the_other_open_tab(context, native):
    app, _ = native
    other = context.new_page()
    other.goto(app.url("/"))
    other.get_by_text("logged-in=False").wait_for()
    log_in(context, app)
    other.get_by_text("logged-in=True").wait_for()
    other.get_by_text("email=alice@example.org").wait_for()


def test_access_token_is_refreshed_server_side(context, native):
    app, _ = native
    page = log_in(context, app)
    first = page.get_by_text("access-token=").inner_text()
    assert first != "access-token=none"
    page.wait_for_function(
        "t => !document.body.innerText.includes(t)", arg=first, timeout=30_000
    )
    page.get_by_text("logged-in=True").wait_for()
    assert page.request.get(app.url("/auth/userinfo")).status == 200


def test_logout_revokes_the_session_and_ends_it_at_the_provider(context, browser, native):
    app, op = native
    page = log_in(context, app)
    other_tab = context.new_page()
    other_tab.goto(app.url("/"))
    other_tab.get_by_text("logged-in=True").wait_for()
    copied = [c for c in context.cookies() if c["name"].startswith("stauth_session")]
    page.get_by_role("button", name="logout").click()
    other_tab.get_by_text("logged-in=False").wait_for()
    page.wait_for_url(f"{op.issuer}/**")
    page.get_by_role("button").first.click()  # the provider's "sign me out" confirmation
    page.wait_for_url(app.url("/") + "*")
    page.get_by_text("logged-in=False").wait_for()
    assert not [c for c in context.cookies() if c["name"].startswith("stauth_session")]
    thief = browser.new_context()
    try:
        thief.add_cookies(copied)
        assert thief.request.get(app.url("/auth/userinfo")).status == 401
    finally:
        thief.close()


def test_logout_cannot_be_triggered_cross_site(context, native):
    app, _ = native
    page = log_in(context, app)
    response = page.request.get(app.url("/auth/logout"), headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status == 200 and "Sign out?" in response.text()
    assert page.request.get(app.url("/auth/userinfo")).status == 200
    post = page.request.post(app.url("/auth/logout"), headers={"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert post.status == 403
    assert page.request.get(app.url("/auth/userinfo")).status == 200
