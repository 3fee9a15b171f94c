"""``/auth/passkeys/...`` over HTTP on both adapters, against a software authenticator: a
signed-in local user registers a passkey and lists it, another browser signs in with it
without a username, the user removes it; and every probe refused with a 4xx (another
origin, a replayed challenge, an unknown passkey, a sign count going backwards, a
cross-site request, malformed or oversized bodies)."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

from cheap_argon2 import use_cheap_hasher  # noqa: E402
from cookie_jar import cookie_header, set_cookies  # noqa: E402
from soft_authenticator import SoftAuthenticator  # noqa: E402

from stauth_server.core.config import ServerConfig  # noqa: E402
from stauth_server.core.signin import SignInService  # noqa: E402
from stauth_server.core.sources.local import LocalAccount, UsersFile, hash_password  # noqa: E402
from stauth_server.core.store.memory import MemoryStore  # noqa: E402
from stauth_server.web.routes import RouteRegistry  # noqa: E402
from stauth_server.web.xsrf import encode_xsrf  # noqa: E402

SECRET = "a-cookie-secret-of-at-least-32-characters-0001"
ORIGIN = "https://app.example.org"
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
CROSS_SITE = {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
PASSWORD = "alice-Pa55word-7f3e"


@pytest.fixture
def routes() -> RouteRegistry:
    registry = RouteRegistry()
    registry.add("/api/me", lambda request: {"id": request.user.id}, auth="required")
    return registry


@pytest.fixture
def users(tmp_path, monkeypatch) -> UsersFile:
    use_cheap_hasher(monkeypatch)
    store = UsersFile(tmp_path / "users.toml")
    store.save([LocalAccount("alice", hash_password(PASSWORD), "alice@example.org", "Alice")])
    return store


@pytest.fixture
def redirect_uri() -> str | None:
    return f"{ORIGIN}/oauth2callback"


@pytest.fixture
def service(users, redirect_uri) -> SignInService:
    config = ServerConfig(users_file=users.path, cookie_secrets=(SECRET,), redirect_uri=redirect_uri)
    return SignInService(config, store=MemoryStore())


def new_browser() -> dict[str, str]:
    """A browser's cookie jar: Streamlit's XSRF cookie, which the ceremonies are bound to."""
    return {"_streamlit_xsrf": encode_xsrf(os.urandom(16), int(time.time()))}


async def post_json(fetch, path: str, jar: dict[str, str], body, headers=SAME_ORIGIN):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await fetch(f"/auth/passkeys/{path}", method="POST", body=data,
                       headers={**headers, "Content-Type": "application/json", "Cookie": cookie_header(jar)})


async def password_sign_in(fetch) -> dict[str, str]:
    jar = new_browser()
    done = await fetch("/auth/login", method="POST", headers={**SAME_ORIGIN, "Cookie": cookie_header(jar)},
                       body=urlencode({"username": "alice", "password": PASSWORD}))
    assert done.code == 303, done.body
    return {**jar, **{k: v for k, v in set_cookies(done).items() if k.startswith("stauth_session")}}


async def register(fetch, jar, authenticator: SoftAuthenticator, name: str = "laptop") -> None:
    options = await post_json(fetch, "register/options", jar, {"name": name, "password": PASSWORD})
    assert options.code == 200, options.body
    ceremony = json.loads(options.body)
    answer = authenticator.create(ceremony["publicKey"], ORIGIN)
    done = await post_json(fetch, "register", jar, {"state": ceremony["state"], "credential": answer})
    assert done.code == 200 and json.loads(done.body) == {"next": "/auth/account?passkey=added"}, done.body


async def passkey_sign_in(fetch, jar, authenticator: SoftAuthenticator, origin: str = ORIGIN, **forged):
    options = await post_json(fetch, "sign-in/options", jar, {})
    assert options.code == 200, options.body
    ceremony = json.loads(options.body)
    answer = authenticator.get(ceremony["publicKey"], origin, **forged)
    return await post_json(fetch, "sign-in", jar, {"state": ceremony["state"], "credential": answer,
                                                    "next": "/reports"}), ceremony["state"], answer


async def me(fetch, jar) -> int:
    return (await fetch("/api/me", headers={"Cookie": cookie_header(jar), "Accept": "application/json"})).code


def sessions(response) -> dict[str, str]:
    return {k: v for k, v in set_cookies(response).items() if k.startswith("stauth_session") and v}


@pytest.mark.gen_test
async def test_register_list_sign_in_without_a_username_and_remove(fetch, users):
    authenticator = SoftAuthenticator()
    alice = await password_sign_in(fetch)
    page = await fetch("/auth/account", headers={"Cookie": cookie_header(alice)})
    assert b"<h2>Passkeys</h2>" in page.body and b"No passkeys yet." in page.body
    await register(fetch, alice, authenticator)
    page = await fetch("/auth/account?passkey=added", headers={"Cookie": cookie_header(alice)})
    assert b"Your passkey was added." in page.body and b"<span>laptop</span>" in page.body

    elsewhere = new_browser()  # another browser, nobody signed in, no username typed
    login = await fetch("/auth/login", headers={"Cookie": cookie_header(elsewhere)})
    assert b"Sign in with a passkey" in login.body
    done, _, _ = await passkey_sign_in(fetch, elsewhere, authenticator)
    assert done.code == 200 and json.loads(done.body) == {"next": "/reports"}, done.body
    signed_in = {**elsewhere, **sessions(done)}
    assert await me(fetch, signed_in) == 200
    assert users.accounts()["alice"].passkeys[0].sign_count == 1

    [passkey] = users.accounts()["alice"].passkeys
    removed = await fetch("/auth/passkeys/remove", method="POST", body=urlencode({"passkey": passkey.credential_id}),
                          headers={**SAME_ORIGIN, "Cookie": cookie_header(alice)})
    assert removed.code == 303 and removed.headers["Location"] == "/auth/account?passkey=removed"
    assert users.accounts()["alice"].passkeys == ()
    again, _, _ = await passkey_sign_in(fetch, new_browser(), authenticator)
    assert again.code == 401 and not sessions(again)


@pytest.mark.gen_test
@pytest.mark.parametrize("forgery", [
    {"origin": "http://127.0.0.1:8501"},  # the same app reached under another name
    {"origin": "https://evil.example"},  # a phishing page relaying our challenge
    {"rp_id": "evil.example"},
    {"verified": False},
    {"sign_count": 0},  # after a sign-in at 1: an authenticator cloned
    {"user_handle": b"another account"},
])
async def test_a_forged_assertion_is_refused_with_a_4xx_and_no_session(fetch, users, forgery):
    authenticator = SoftAuthenticator()
    await register(fetch, await password_sign_in(fetch), authenticator)
    first, _, _ = await passkey_sign_in(fetch, new_browser(), authenticator)
    assert first.code == 200
    forgery = dict(forgery)  # (the parameter is shared by both adapters' runs)
    origin = forgery.pop("origin", ORIGIN)
    done, _, _ = await passkey_sign_in(fetch, new_browser(), authenticator, origin, **forgery)
    assert done.code == 401 and "error" in json.loads(done.body) and not sessions(done), done.body
    assert users.accounts()["alice"].passkeys[0].sign_count == 1


@pytest.mark.gen_test
async def test_a_replayed_challenge_is_refused(fetch):
    authenticator = SoftAuthenticator()
    await register(fetch, await password_sign_in(fetch), authenticator)
    browser = new_browser()
    done, state, answer = await passkey_sign_in(fetch, browser, authenticator)
    assert done.code == 200
    replay = await post_json(fetch, "sign-in", browser, {"state": state, "credential": answer})
    assert replay.code == 400 and json.loads(replay.body)["error"].startswith("This passkey request was already used")
    assert not sessions(replay)


@pytest.mark.gen_test
async def test_an_unknown_passkey_is_refused(fetch):
    done, _, _ = await passkey_sign_in(fetch, new_browser(), _stranger())
    assert done.code == 401 and json.loads(done.body) == {"error": "This passkey is not registered here."}


def _stranger() -> SoftAuthenticator:
    """An authenticator with a credential for our RP ID that the app never registered."""
    stranger = SoftAuthenticator()
    stranger.create({"rp": {"id": "app.example.org"}, "user": {"id": "dXNlcg"}, "challenge": "Yw"}, ORIGIN)
    return stranger


@pytest.mark.gen_test
async def test_a_state_started_in_another_browser_is_refused(fetch):
    authenticator = SoftAuthenticator()
    await register(fetch, await password_sign_in(fetch), authenticator)
    options = json.loads((await post_json(fetch, "sign-in/options", new_browser(), {})).body)
    answer = authenticator.get(options["publicKey"], ORIGIN)
    done = await post_json(fetch, "sign-in", new_browser(), {"state": options["state"], "credential": answer})
    assert done.code == 403 and not sessions(done)


@pytest.mark.gen_test
@pytest.mark.parametrize("path", ["sign-in/options", "sign-in", "register/options", "register"])
async def test_cross_site_json_posts_are_refused(fetch, path):
    jar = await password_sign_in(fetch)
    answer = await post_json(fetch, path, jar, {}, headers=CROSS_SITE)
    assert answer.code == 403


@pytest.mark.gen_test
@pytest.mark.parametrize("body, content_type, status, message", [
    (b"{not json", "application/json", 400, "Malformed JSON"),
    (b"\xff\xfe", "application/json", 400, "Malformed JSON"),
    (b"[1, 2]", "application/json", 400, "Expected a JSON object"),
    (b'{"state": 7, "credential": "x"}', "application/json", 400, None),
    (b'{"state": "x", "credential": {"id": []}}', "application/json", 400, None),
    (b"{}", "text/plain", 415, None),
    (b'{"pad": "' + b"x" * (70 * 1024) + b'"}', "application/json", 413, None),
])
async def test_malformed_bodies_are_a_short_4xx_never_a_5xx(fetch, body, content_type, status, message):
    jar = new_browser()
    answer = await fetch("/auth/passkeys/sign-in", method="POST", body=body,
                         headers={**SAME_ORIGIN, "Content-Type": content_type, "Cookie": cookie_header(jar)})
    assert answer.code == status, answer.body
    error = json.loads(answer.body)["error"]
    assert len(error) < 80 and (message is None or error == message)


@pytest.mark.gen_test
async def test_a_browser_without_the_xsrf_cookie_is_asked_to_reload(fetch):
    answer = await post_json(fetch, "sign-in/options", {}, {})
    assert answer.code == 400 and json.loads(answer.body) == {"error": "Reload the page and try again"}


@pytest.mark.gen_test
async def test_registering_needs_a_signed_in_local_account(fetch, users):
    answer = await post_json(fetch, "register/options", new_browser(), {"name": "laptop", "password": PASSWORD})
    assert answer.code == 401
    alice = await password_sign_in(fetch)
    assert (await post_json(fetch, "register/options", alice, {"name": "", "password": PASSWORD})).code == 400
    await register(fetch, alice, SoftAuthenticator())
    taken = await post_json(fetch, "register/options", alice, {"name": "laptop", "password": PASSWORD})
    assert taken.code == 409 and b"already have a passkey with this name" in taken.body
    assert len(users.accounts()["alice"].passkeys) == 1


@pytest.mark.gen_test
@pytest.mark.parametrize("body", [{"name": "thief"}, {"name": "thief", "password": ""},
                                  {"name": "thief", "password": "wrong-password-123"},
                                  {"name": "thief", "password": ["alice-Pa55word-7f3e"]}])
async def test_a_session_without_the_password_cannot_add_a_passkey(fetch, users, caplog, body):
    alice = await password_sign_in(fetch)  # a stolen session: the thief has the cookie, not the password
    with caplog.at_level(logging.INFO, logger="stauth.audit"):
        answer = await post_json(fetch, "register/options", alice, body)
    assert answer.code == 401 and json.loads(answer.body) == {"error": "Your current password is not right."}
    assert users.accounts()["alice"].passkeys == ()
    events = [json.loads(r.getMessage()) for r in caplog.records if r.name == "stauth.audit"]
    assert [(e["event"], e.get("reason")) for e in events if e["path"] == "/auth/passkeys/register/options"] \
        == [("passkey_add_failed", "bad_password")]
    # nothing to finish either: no challenge was issued, and an answer made up is refused
    made_up = SoftAuthenticator().create({"rp": {"id": "app.example.org", "name": "x"}, "user": {
        "id": "AAAA", "name": "alice", "displayName": "Alice"}, "challenge": "AAAA"}, ORIGIN)
    done = await post_json(fetch, "register", alice, {"state": "forged", "credential": made_up})
    assert done.code == 400 and users.accounts()["alice"].passkeys == ()


@pytest.mark.gen_test
async def test_guessing_the_password_to_add_a_passkey_is_throttled(fetch, users):
    alice = await password_sign_in(fetch)
    statuses = [(await post_json(fetch, "register/options", alice, {"name": "x", "password": f"guess-{i}"})).code
                for i in range(4)]
    assert statuses == [401, 401, 401, 429]
    right = await post_json(fetch, "register/options", alice, {"name": "x", "password": PASSWORD})
    assert right.code == 429 and json.loads(right.body)["error"].startswith("Too many attempts")
    assert "publicKey" not in json.loads(right.body) and users.accounts()["alice"].passkeys == ()


@pytest.mark.gen_test
async def test_removing_is_a_same_origin_form_post_for_the_owner(fetch, users):
    alice = await password_sign_in(fetch)
    await register(fetch, alice, SoftAuthenticator())
    [passkey] = users.accounts()["alice"].passkeys
    body = urlencode({"passkey": passkey.credential_id})
    cross = await fetch("/auth/passkeys/remove", method="POST", body=body,
                        headers={**CROSS_SITE, "Cookie": cookie_header(alice)})
    assert cross.code == 403
    visitor = await fetch("/auth/passkeys/remove", method="POST", body=body,
                          headers={**SAME_ORIGIN, "Cookie": cookie_header(new_browser())})
    assert visitor.code == 303 and visitor.headers["Location"].startswith("/auth/login")
    unknown = await fetch("/auth/passkeys/remove", method="POST", body=urlencode({"passkey": "bm9wZQ"}),
                          headers={**SAME_ORIGIN, "Cookie": cookie_header(alice)})
    assert unknown.code == 404
    assert (await fetch("/auth/passkeys/remove", headers={"Cookie": cookie_header(alice)})).code == 405
    assert users.accounts()["alice"].passkeys == (passkey,)


@pytest.mark.gen_test
@pytest.mark.parametrize("redirect_uri", [None])
async def test_without_a_redirect_uri_passkeys_are_off(fetch, redirect_uri):
    login = await fetch("/auth/login")
    assert login.code == 200 and b"Sign in with a passkey" not in login.body
    answer = await post_json(fetch, "sign-in/options", new_browser(), {})
    assert answer.code == 404
    alice = await password_sign_in(fetch)
    page = await fetch("/auth/account", headers={"Cookie": cookie_header(alice)})
    assert b"Passkeys are not available" in page.body
