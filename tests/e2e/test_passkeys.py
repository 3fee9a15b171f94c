"""Passkeys in Chromium, with its virtual authenticator (a CDP session: ``WebAuthn.enable``,
``WebAuthn.addVirtualAuthenticator``), against ``streamlit-auth run``: a local user adds
a passkey on the account page (with the current password: a wrong one adds nothing), signs
out, signs in with "Sign in with a passkey" without typing a username, and removes it; a passkey answer for another origin is refused, by the
browser (the same server reached as 127.0.0.1) and by the server (the authenticator's own
key signing a clientDataJSON that names another origin)."""

from __future__ import annotations

import base64
import shutil
import sys
from pathlib import Path

import pytest

from stauth_server.core.sources.local import LocalAccount, UsersFile, hash_password

from .harness import APPS, free_port, run_app
from .test_sign_in import SECRET, write_secrets

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

from soft_authenticator import SoftAuthenticator, SoftCredential, private_key_from_pkcs8  # noqa: E402

pytestmark = pytest.mark.generations("st156", "st167")

PASSWORD = "lucy-local-password"
WHO = "who=Lucy Local provider=local"


@pytest.fixture(scope="module")
def portal(tmp_path_factory, generation):
    tmp = tmp_path_factory.mktemp("passkeys")
    app_dir = tmp / "app"
    shutil.copytree(APPS / "login_page", app_dir)
    UsersFile(app_dir / "users.toml").save([LocalAccount("lucy", hash_password(PASSWORD), "lucy@example.org",
                                                         "Lucy Local")])
    port = free_port()
    write_secrets(app_dir, f'[auth]\nredirect_uri = "http://localhost:{port}/oauth2callback"\n'
                           f'cookie_secret = "{SECRET}"\n[auth.local]\nusers_file = "users.toml"\n')
    with run_app(app_dir, "sales_portal.py", generation=generation, tmp_path=tmp, port=port) as app:
        app.users = UsersFile(app_dir / "users.toml")
        yield app


def with_authenticator(context):
    """A page with Chromium's virtual platform authenticator (resident keys, user verification)."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True}})
    return page, cdp, added["authenticatorId"]


def password_sign_in(page, app) -> None:
    page.goto(app.url("/auth/login", host="localhost"))
    page.fill("#username", "lucy")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.get_by_text(WHO).wait_for()


def add_passkey(page, app, name: str, password: str = PASSWORD) -> None:
    page.goto(app.url("/auth/account", host="localhost"))
    page.fill("#passkey-name", name)
    page.fill("#passkey-password", password)
    page.get_by_role("button", name="Add a passkey").click()
    page.get_by_text("Your passkey was added.").wait_for()


def test_register_sign_out_sign_in_with_the_passkey_and_remove_it(browser, portal):
    context = browser.new_context()
    try:
        page, cdp, authenticator = with_authenticator(context)
        password_sign_in(page, portal)
        page.goto(portal.url("/auth/account", host="localhost"))  # a session alone cannot add one
        page.fill("#passkey-name", "thief")
        page.fill("#passkey-password", "not-lucys-password")
        page.get_by_role("button", name="Add a passkey").click()
        page.get_by_text("Your current password is not right.").wait_for()
        assert portal.users.accounts()["lucy"].passkeys == ()
        assert cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"] == []
        add_passkey(page, portal, "laptop")
        assert page.locator(".passkey-list li span").all_inner_texts() == ["laptop"]
        [stored] = portal.users.accounts()["lucy"].passkeys
        [held] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
        assert held["isResidentCredential"] and held["rpId"] == "localhost"
        assert base64.b64decode(held["credentialId"]) == base64.urlsafe_b64decode(stored.credential_id + "==")

        page.goto(portal.url("/auth/logout", host="localhost"))
        assert page.request.get(portal.url("/auth/userinfo", host="localhost")).status == 401
        page.goto(portal.url("/auth/login", host="localhost"))
        assert page.locator("#username").input_value() == ""
        page.get_by_role("button", name="Sign in with a passkey").click()
        page.get_by_text(WHO).wait_for()
        assert page.request.get(portal.url("/auth/userinfo", host="localhost")).status == 200
        assert portal.users.accounts()["lucy"].passkeys[0].sign_count >= 1

        page.goto(portal.url("/auth/account", host="localhost"))
        page.get_by_role("button", name="Remove passkey laptop").click()
        page.get_by_text("The passkey was removed.").wait_for()
        assert portal.users.accounts()["lucy"].passkeys == ()
        page.goto(portal.url("/auth/logout", host="localhost"))
        page.goto(portal.url("/auth/login", host="localhost"))
        page.get_by_role("button", name="Sign in with a passkey").click()
        page.get_by_text("This passkey is not registered here.").wait_for()
        assert page.request.get(portal.url("/auth/userinfo", host="localhost")).status == 401
    finally:
        context.close()


def test_a_passkey_answer_for_another_origin_is_refused(browser, portal):
    context = browser.new_context()
    try:
        page, cdp, authenticator = with_authenticator(context)
        password_sign_in(page, portal)
        add_passkey(page, portal, "phone")
        [held] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
        page.goto(portal.url("/auth/logout", host="localhost"))

        # The browser: the same server reached as 127.0.0.1 is another origin, where a
        # passkey of localhost cannot even be asked for.
        elsewhere = context.new_page()
        elsewhere.goto(portal.url("/auth/login", host="127.0.0.1"))
        elsewhere.get_by_role("button", name="Sign in with a passkey").click()
        elsewhere.get_by_text(f"Passkeys work only at http://localhost:{portal.port}.").wait_for()
        assert elsewhere.request.get(portal.url("/auth/userinfo", host="127.0.0.1")).status == 401

        # The server: the passkey's own key signs an answer whose clientDataJSON names
        # another origin (a relay from a look-alike site); posted from our own page.
        page.goto(portal.url("/auth/login", host="localhost"))
        options = page.evaluate(POST_JSON, ["/auth/passkeys/sign-in/options", {}])
        assert options["status"] == 200
        credential = SoftCredential(base64.b64decode(held["credentialId"]),
                                    private_key_from_pkcs8(base64.b64decode(held["privateKey"])), "localhost",
                                    base64.b64decode(held["userHandle"]), held["signCount"] + 5)
        forged = SoftAuthenticator(credentials=[credential]).get(options["body"]["publicKey"], f"http://127.0.0.1:{portal.port}")
        refused = page.evaluate(POST_JSON, ["/auth/passkeys/sign-in",
                                            {"state": options["body"]["state"], "credential": forged}])
        assert refused["status"] == 401 and refused["body"]["error"].startswith("The passkey could not be verified")
        assert page.request.get(portal.url("/auth/userinfo", host="localhost")).status == 401

        page.get_by_role("button", name="Sign in with a passkey").click()  # the real one still works
        page.get_by_text(WHO).wait_for()
    finally:
        context.close()


POST_JSON = """async ([path, body]) => {
  const xsrf = document.querySelector('input[name="_xsrf"]').value;
  const answer = await fetch(path, {method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-Xsrftoken": xsrf}, body: JSON.stringify(body)});
  return {status: answer.status, body: await answer.json()};
}"""
