"""SAML 2.0 sign-in end to end: Chromium, a real ``streamlit-auth run``, a real SAML IdP
(LemonLDAP::NG, tests/saml_idp).

The app is served on ``localhost`` and the IdP on ``127.0.0.1``: two sites, so the IdP's
POST to the Assertion Consumer Service is cross-site, as in production, and carries none
of the app's ``SameSite=Lax`` cookies (the ACS posts it again from the app's own origin).
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
from html import escape
from urllib.parse import parse_qs

import pytest
import requests

from .harness import APPS, free_port, run_app
from .saml_idp import run_saml_idp, sign_in_at_idp
from .test_sign_in import SECRET, write_secrets

pytestmark = pytest.mark.generations("st156", "st167")
HOST = "localhost"
PASSWORD = "carol-local-password-1"


@pytest.fixture(scope="module")
def saml_app(tmp_path_factory, generation):
    """The app with ``[auth.corp] protocol = "saml"`` (signed AuthnRequests) and a local
    account (so that the login page shows a form and the Corp button), registered on the IdP."""
    tmp = tmp_path_factory.mktemp("saml")
    app_dir = tmp / "app"
    shutil.copytree(APPS / "saml", app_dir)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "1",
                    "-subj", "/CN=streamlit-auth test SP", "-keyout", str(app_dir / "sp.key"),
                    "-out", str(app_dir / "sp.crt")], check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "stauth_server", "users", "add", "users.toml", "carol",
                    "--email", "carol@corp.test", "--password-stdin"],
                   cwd=app_dir, input=PASSWORD + "\n", text=True, check=True, capture_output=True)
    port = free_port()
    origin = f"http://{HOST}:{port}"
    with run_saml_idp(tmp) as idp:
        write_secrets(app_dir, f"""
[auth]
redirect_uri = "{origin}/oauth2callback"
cookie_secret = "{SECRET}"

[auth.local]
users_file = "users.toml"

[auth.corp]
protocol = "saml"
idp_metadata_url = "{idp.metadata_url}"
sp_key_file = "sp.key"
sp_cert_file = "sp.crt"

[auth.roles]
admin = ["group:admins"]
""")
        with run_app(app_dir, port=port, generation=generation, tmp_path=tmp) as app:
            metadata = requests.get(app.url("/auth/saml/corp/metadata", host=HOST), timeout=10)
            assert metadata.status_code == 200, app.log()
            assert metadata.headers["Content-Type"] == "application/samlmetadata+xml"
            assert f'Location="{origin}/auth/saml/corp/acs"' in metadata.text
            idp.register_sp(metadata.text)
            yield app, idp


def acs_posts(page) -> list[dict[str, str]]:
    """Every form posted to the ACS in ``page`` (its fields), as the browser sent them."""
    posts: list[dict[str, str]] = []

    def seen(request) -> None:
        if request.method == "POST" and request.url.endswith("/auth/saml/corp/acs"):
            posts.append({key: values[0] for key, values in parse_qs(request.post_data or "").items()})

    page.on("request", seen)
    return posts


def signed_in_as_alice(page) -> None:
    page.get_by_text("who=Alice Example email=alice@example.org provider=corp roles=admin").wait_for()
    page.get_by_text("st-user=alice@example.org logged-in=True").wait_for()


def test_st_login_signs_alice_in_and_logout_ends_both_sessions(context, saml_app):
    app, idp = saml_app
    page = context.new_page()
    posts = acs_posts(page)
    page.goto(app.url("/", host=HOST))
    page.get_by_text("who=anonymous").wait_for()
    page.get_by_role("button", name="sign in").click()
    page.wait_for_url(f"{idp.url}/**")
    sign_in_at_idp(page, "alice")
    signed_in_as_alice(page)
    # the IdP's cross-site POST, then the app's own page posting the same response again
    assert len(posts) == 2 and "stauth_repost" not in posts[0] and posts[1]["stauth_repost"] == "1"
    assert posts[0]["SAMLResponse"] == posts[1]["SAMLResponse"]
    assert b">Alice Example<" in base64.b64decode(posts[0]["SAMLResponse"])

    userinfo = page.request.get(app.url("/auth/userinfo", host=HOST))
    assert userinfo.status == 200
    me = userinfo.json()
    assert (me["email"], me["name"], me["provider"], me["roles"]) == ("alice@example.org", "Alice Example", "corp",
                                                                       ["admin"])
    assert sorted(me["groups"]) == ["admins", "users"]

    idp_pages: list[str] = []
    page.on("request", lambda request: idp_pages.append(request.url) if request.url.startswith(idp.url) else None)
    page.get_by_role("button", name="sign out").click()
    page.get_by_text("who=anonymous").wait_for()
    assert any("/saml/singleLogout" in url for url in idp_pages), idp_pages  # SP-initiated SLO at the IdP
    assert page.request.get(app.url("/auth/userinfo", host=HOST)).status == 401
    # The IdP's session ended too: signing in again asks for the password.
    page.get_by_role("button", name="sign in").click()
    page.wait_for_url(f"{idp.url}/**")
    page.wait_for_selector("#passwordfield")


def test_login_page_button_and_a_replayed_response_is_refused(context, saml_app, browser):
    app, idp = saml_app
    page = context.new_page()
    posts = acs_posts(page)
    page.goto(app.url("/auth/login?next=/", host=HOST))
    assert page.locator("#password").count() == 1  # the local account's form, and the Corp button
    page.get_by_role("link", name="Corp").click()
    page.wait_for_url(f"{idp.url}/**")
    login_cookies = [c for c in context.cookies() if c["name"].startswith("stauth_login_")]
    assert len(login_cookies) == 1
    sign_in_at_idp(page, "alice")
    signed_in_as_alice(page)
    captured = posts[-1]
    fields = {"SAMLResponse": captured["SAMLResponse"], "RelayState": captured["RelayState"]}
    acs = app.url("/auth/saml/corp/acs", host=HOST)

    # An attacker who kept the login cookie posts the same response again: already used.
    replay = requests.post(acs, data={**fields, "stauth_repost": "1"}, allow_redirects=False, timeout=10,
                           headers={"Sec-Fetch-Site": "same-origin"},
                           cookies={login_cookies[0]["name"]: login_cookies[0]["value"]})
    assert replay.status_code == 400 and "already used" in replay.text
    assert not any(name.startswith("stauth_session") and value for name, value in replay.cookies.items())

    # Another browser replaying the captured post, as the IdP would post it: a 4xx page.
    other = browser.new_context()
    try:
        thief = other.new_page()
        inputs = "".join(f'<input type=hidden name={name} value="{escape(value)}">' for name, value in fields.items())
        thief.set_content(f'<form method=post action="{acs}">{inputs}<button id=go>go</button></form>')
        with thief.expect_response(lambda r: r.url == acs and r.request.method == "POST"
                                   and r.request.post_data and "stauth_repost" in r.request.post_data) as answer:
            thief.click("#go")
        assert 400 <= answer.value.status < 500
        thief.get_by_text("does not belong to a sign-in started here").wait_for()
        assert not [c for c in other.cookies() if c["name"].startswith("stauth_session")]
    finally:
        other.close()
    # alice's own session is untouched
    assert page.request.get(app.url("/auth/userinfo", host=HOST)).json()["email"] == "alice@example.org"
