"""Several providers, the chooser page, session expiry, and errors that read well."""

from __future__ import annotations

import shutil

import pytest
import requests

from .harness import APPS, free_port, run_app
from .op import run_op, sign_in_at_op
from .test_sign_in import SECRET, write_secrets


@pytest.fixture(scope="module", params=["", "sub"], ids=["root", "base-path"])
def multi(request, tmp_path_factory, generation):
    base = request.param
    tmp = tmp_path_factory.mktemp("multi")
    app_dir = tmp / "app"
    shutil.copytree(APPS / "native_login", app_dir)
    port = free_port()
    rp = f"http://127.0.0.1:{port}" + (f"/{base}" if base else "")
    closed = free_port()
    with run_op(rp, tmp) as alpha, run_op(rp, tmp, client_id="beta-client", client_secret="beta-secret") as beta:
        write_secrets(app_dir, f"""
[auth]
redirect_uri = "{rp}/oauth2callback"
cookie_secret = "{SECRET}"
default_ttl = "10s"

[auth.alpha]
display_name = "Alpha ID"
client_id = "{alpha.client_id}"
client_secret = "{alpha.client_secret}"
server_metadata_url = "{alpha.metadata_url}"

[auth.beta]
display_name = "Beta ID"
client_id = "beta-client"
client_secret = "beta-secret"
server_metadata_url = "{beta.metadata_url}"

[auth.wrongsecret]
client_id = "{alpha.client_id}"
client_secret = "not-the-secret"
server_metadata_url = "{alpha.metadata_url}"

[auth.down]
client_id = "x"
client_secret = "y"
server_metadata_url = "http://127.0.0.1:{closed}/.well-known/openid-configuration"
""")
        with run_app(app_dir, base_path=base, port=port, generation=generation, tmp_path=tmp,
                     env={"STREAMLIT_AUTH_MAINTENANCE_SECONDS": "2"}) as app:
            yield app, alpha, beta


def test_chooser_lists_every_provider_and_signs_in_with_the_chosen_one(context, multi):
    app, _, beta = multi
    page = context.new_page()
    page.goto(app.url("/"))
    page.get_by_text("logged-in=False").wait_for()
    page.get_by_role("button", name="login").click()
    page.get_by_role("link", name="Continue with Alpha ID").wait_for()
    assert page.get_by_role("link", name="Continue with Beta ID").count() == 1
    page.get_by_role("link", name="Continue with Beta ID").click()
    assert page.url.startswith(beta.issuer)
    sign_in_at_op(page, "bob")
    page.get_by_text("provider=beta").wait_for()
    page.get_by_text("email=bob@example.org").wait_for()


def test_session_expires_after_default_ttl(context, multi):
    app, _, _ = multi
    page = context.new_page()
    page.goto(app.url("/auth/login?provider=alpha"))
    sign_in_at_op(page)
    page.get_by_text("logged-in=True").wait_for()
    assert page.request.get(app.url("/auth/userinfo")).status == 200
    page.get_by_text("logged-in=False").wait_for(timeout=30_000)
    assert page.request.get(app.url("/auth/userinfo")).status == 401


def test_unreachable_provider_shows_a_clear_error_page(context, multi):
    app, _, _ = multi
    page = context.new_page()
    response = page.goto(app.url("/auth/login?provider=down"))
    assert response.status == 502
    assert "could not be reached" in page.inner_text("body")
    assert page.get_by_role("link", name="Back to the app").count() == 1
    assert "Traceback" not in page.content()


def test_wrong_client_secret_shows_a_clear_error_page_and_no_session(context, multi):
    app, _, _ = multi
    page = context.new_page()
    page.goto(app.url("/auth/login?provider=wrongsecret"))
    sign_in_at_op(page)
    page.get_by_text("client id or secret").wait_for()
    assert not [c for c in context.cookies() if c["name"].startswith("stauth_session")]
    assert page.request.get(app.url("/auth/userinfo")).status == 401


def test_access_denied_at_the_provider_shows_a_clear_error_page(context, multi):
    app, alpha, _ = multi
    page = context.new_page()
    page.goto(app.url("/auth/login?provider=alpha"))
    page.wait_for_url("**/interaction/**")
    page.goto(page.url.rstrip("/") + "/abort")
    page.get_by_text("cancelled or refused").wait_for()
    assert page.request.get(app.url("/auth/userinfo")).status == 401


def test_replayed_callback_is_refused_and_leaves_the_session_alone(context, multi):
    app, _, _ = multi
    page = context.new_page()
    callbacks: list[str] = []
    page.on("request", lambda r: callbacks.append(r.url) if "/oauth2callback?" in r.url else None)
    page.goto(app.url("/auth/login?provider=alpha"))
    sign_in_at_op(page)
    page.get_by_text("logged-in=True").wait_for()
    assert callbacks
    replay = context.new_page()
    response = replay.goto(callbacks[0])
    assert response.status == 400
    assert "expired or does not belong" in replay.inner_text("body") or "already used" in replay.inner_text("body")
    assert page.request.get(app.url("/auth/userinfo")).status == 200


def test_forged_callback_without_a_login_is_refused(multi):
    app, _, _ = multi
    response = requests.get(app.url("/oauth2callback?code=x&state=y"), timeout=5)
    assert response.status_code == 400
    assert "Traceback" not in response.text
