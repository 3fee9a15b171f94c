"""An attacker's probes of local accounts over HTTP, on both adapters: the second sign-in
step (a password changed or reset while it waits, two codes raced, ``next`` pointing
elsewhere, a browser holding only the pending cookie), hostile passkey names, and every
new endpoint fed odd methods, bodies and values (a 4xx, never a 5xx)."""

from __future__ import annotations

import asyncio
import dataclasses
import html
import json
import logging
import os
import re
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pyotp
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

from cheap_argon2 import use_cheap_hasher  # noqa: E402
from cookie_jar import cookie_header, set_cookies  # noqa: E402
from soft_authenticator import SoftAuthenticator  # noqa: E402

from stauth_server.core.accounts.recovery_flows import issue_reset  # noqa: E402
from stauth_server.core.accounts.second_factor import enrol_totp  # noqa: E402
from stauth_server.core.accounts.secret_box import SecretBox  # noqa: E402
from stauth_server.core.accounts.totp import INTERVAL, new_secret  # noqa: E402
from stauth_server.core.config import ServerConfig  # noqa: E402
from stauth_server.core.signin import SignInService  # noqa: E402
from stauth_server.core.sources.local import LocalAccount, UsersFile, hash_password  # noqa: E402
from stauth_server.core.store.memory import MemoryStore  # noqa: E402
from stauth_server.web.routes import RouteRegistry  # noqa: E402
from stauth_server.web.xsrf import encode_xsrf  # noqa: E402

SECRET = "a-cookie-secret-of-at-least-32-characters-0001"
ORIGIN = "https://app.example.org"
REDIRECT_URI = f"{ORIGIN}/oauth2callback"
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
PASSWORD = "alice-Pa55word-7f3e"
NEW_PASSWORD = "a-new-Pa55word-for-alice-91"
PENDING = "stauth_second_step"
ALICE_SECRET = new_secret()


def code_at(secret: str, steps_from_now: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + steps_from_now * INTERVAL)


def wrong_code(secret: str) -> str:
    return "000000" if code_at(secret) != "000000" else "111111"


@pytest.fixture
def routes() -> RouteRegistry:
    registry = RouteRegistry()
    registry.add("/api/me", lambda request: {"id": request.user.id}, auth="required")
    return registry


@pytest.fixture
def users(tmp_path, monkeypatch) -> Path:
    """alice has a second factor; carol has none."""
    use_cheap_hasher(monkeypatch)
    path = tmp_path / "users.toml"
    UsersFile(path).save([
        LocalAccount("alice", hash_password(PASSWORD), "alice@example.org", "Alice"),
        LocalAccount("carol", hash_password(PASSWORD), "carol@example.org", "<b>Carol</b>"),
    ])
    codes = enrol_totp(UsersFile(path), "alice", secret=ALICE_SECRET, code=code_at(ALICE_SECRET, -1),
                       box=SecretBox([SECRET]))
    (tmp_path / "alice-recovery").write_text("\n".join(codes), encoding="utf-8")
    return path


@pytest.fixture
def recovery(users) -> list[str]:
    return (users.parent / "alice-recovery").read_text(encoding="utf-8").split("\n")


@pytest.fixture
def require() -> bool | tuple[str, ...]:
    return False


@pytest.fixture
def service(users, require) -> SignInService:
    config = ServerConfig(users_file=users, cookie_secrets=(SECRET,), redirect_uri=REDIRECT_URI,
                          require_second_factor=require)
    return SignInService(config, store=MemoryStore())


def new_browser() -> dict[str, str]:
    """A browser's jar: Streamlit's XSRF cookie, which pending steps and ceremonies are bound to."""
    return {"_streamlit_xsrf": encode_xsrf(os.urandom(16), int(time.time()))}


def sessions(response) -> dict[str, str]:
    return {k: v for k, v in set_cookies(response).items() if k.startswith("stauth_session") and v}


async def me(fetch, jar) -> int:
    return (await fetch("/api/me", headers={"Cookie": cookie_header(jar), "Accept": "application/json"})).code


async def first_step(fetch, username="alice", next_path="/reports", jar=None) -> dict[str, str]:
    """The password accepted in browser ``jar``: that jar with the pending cookie."""
    jar = dict(jar or new_browser())
    done = await fetch("/auth/login", method="POST", headers={**SAME_ORIGIN, "Cookie": cookie_header(jar)},
                       body=urlencode({"username": username, "password": PASSWORD, "next": next_path}))
    assert done.code == 303 and done.headers["Location"] == "/auth/login/code", done.body[:300]
    assert not sessions(done)
    return {**jar, PENDING: set_cookies(done)[PENDING]}


async def send_code(fetch, jar, code, **form):
    return await fetch("/auth/login/code", method="POST", headers={**SAME_ORIGIN, "Cookie": cookie_header(jar)},
                       body=urlencode({"action": "code", "code": code, **form}))


def field(body: bytes, name: str) -> str:
    found = re.search(rf'name="?{name}"? value="([^"]*)"', body.decode())
    assert found, name
    return html.unescape(found.group(1))


def shown_secret(body: bytes) -> str:
    found = re.search(r"<code class=secret id=totp-secret>([A-Z2-7]+)</code>", body.decode())
    assert found
    return found.group(1)


def change_password(users: Path, username: str, new: str = NEW_PASSWORD) -> None:
    """What a reset link, the account page or ``users passwd`` does to the users file."""

    def change(accounts):
        accounts[username] = dataclasses.replace(accounts[username], password_hash=hash_password(new),
                                                 one_time_tokens=())

    UsersFile(users).update(change)


# --- the second step outlives nothing the sessions do not -----------------------------------------


@pytest.mark.gen_test
async def test_a_password_changed_while_the_second_step_waits_ends_the_step(fetch, users):
    # The attacker knows the old password and has a code (phished in real time); the owner
    # resets the password meanwhile: the half-done sign-in must die like every session.
    jar = await first_step(fetch)
    change_password(users, "alice")
    done = await send_code(fetch, jar, code_at(ALICE_SECRET))
    assert 400 <= done.code < 500 and not sessions(done), done.code
    page = await fetch("/auth/login/code", headers={"Cookie": cookie_header(jar)})
    assert page.code == 400 and b"Sign in again" in page.body


@pytest.mark.gen_test
@pytest.mark.parametrize("require", [True])
async def test_a_password_reset_while_a_required_enrolment_waits_enrols_nothing(fetch, users, require):
    # The attacker knows only carol's old password; carol must enrol a second factor. After
    # carol resets her password the attacker's pending step must neither sign in nor write
    # the attacker's own TOTP secret onto carol's account.
    jar = await first_step(fetch, "carol")
    page = await fetch("/auth/login/code", headers={"Cookie": cookie_header(jar)})
    secret, candidate = shown_secret(page.body), field(page.body, "candidate")
    change_password(users, "carol")
    done = await send_code(fetch, jar, code_at(secret), action="enrol", candidate=candidate)
    assert 400 <= done.code < 500 and not sessions(done), done.code
    assert not UsersFile(users).accounts()["carol"].has_second_factor


@pytest.mark.gen_test
async def test_the_step_still_works_when_nothing_changed_meanwhile(fetch):
    jar = await first_step(fetch)
    done = await send_code(fetch, jar, code_at(ALICE_SECRET))
    assert done.code == 303 and await me(fetch, sessions(done)) == 200


@pytest.mark.gen_test
@pytest.mark.parametrize("require", [True])
async def test_an_accepted_invitation_goes_on_to_a_live_second_step(fetch, users, require):
    # The invitation's new password is the one the step is bound to: the step must work.
    from stauth_server.core.accounts.recovery_flows import invite

    issued = invite(UsersFile(users), "zoe@example.org", REDIRECT_URI, username="zoe")
    token = parse_qs(urlsplit(issued.url).query)["token"][0]
    jar = new_browser()
    done = await fetch("/auth/invite", method="POST", headers={**SAME_ORIGIN, "Cookie": cookie_header(jar)},
                       body=urlencode({"token": token, "new_password": NEW_PASSWORD}))
    assert done.code == 303 and done.headers["Location"] == "/auth/login/code" and not sessions(done)
    jar[PENDING] = set_cookies(done)[PENDING]
    page = await fetch("/auth/login/code", headers={"Cookie": cookie_header(jar)})
    assert page.code == 200 and b"Two-factor authentication required" in page.body
    secret, candidate = shown_secret(page.body), field(page.body, "candidate")
    enrolled = await send_code(fetch, jar, code_at(secret), action="enrol", candidate=candidate)
    assert enrolled.code == 200 and await me(fetch, sessions(enrolled)) == 200


@pytest.mark.gen_test
async def test_a_reset_link_changes_the_password_but_never_skips_the_second_factor(fetch, users):
    issued = issue_reset(UsersFile(users), "alice", REDIRECT_URI)
    token = parse_qs(urlsplit(issued.url).query)["token"][0]
    done = await fetch("/auth/reset", method="POST", headers=SAME_ORIGIN,
                       body=urlencode({"token": token, "new_password": NEW_PASSWORD}))
    assert done.code == 303 and not sessions(done) and not set_cookies(done).get(PENDING)
    signed = await fetch("/auth/login", method="POST", headers=SAME_ORIGIN,
                         body=urlencode({"username": "alice", "password": NEW_PASSWORD}))
    assert signed.code == 303 and signed.headers["Location"] == "/auth/login/code" and not sessions(signed)
    assert UsersFile(users).accounts()["alice"].has_second_factor


# --- races ---------------------------------------------------------------------------------------


@pytest.mark.gen_test
async def test_one_code_raced_from_two_browsers_opens_one_session(fetch):
    first, second = await first_step(fetch), await first_step(fetch)
    code = code_at(ALICE_SECRET)
    answers = await asyncio.gather(send_code(fetch, first, code), send_code(fetch, second, code))
    assert sorted(a.code for a in answers) == [303, 401]
    assert sum(bool(sessions(a)) for a in answers) == 1


@pytest.mark.gen_test
async def test_one_recovery_code_raced_from_two_browsers_opens_one_session(fetch, recovery):
    first, second = await first_step(fetch), await first_step(fetch)
    answers = await asyncio.gather(send_code(fetch, first, recovery[0]), send_code(fetch, second, recovery[0]))
    assert sorted(a.code for a in answers) == [303, 401]
    assert sum(bool(sessions(a)) for a in answers) == 1


@pytest.mark.gen_test
async def test_two_good_codes_raced_on_one_step_open_one_session(fetch, recovery):
    jar = await first_step(fetch)
    answers = await asyncio.gather(send_code(fetch, jar, code_at(ALICE_SECRET)), send_code(fetch, jar, recovery[1]))
    assert sum(bool(sessions(a)) for a in answers) == 1
    assert all(a.code < 500 for a in answers)


@pytest.mark.gen_test
async def test_guesses_sent_all_at_once_are_counted_before_they_are_checked(fetch):
    # Ten steps (the password is known), one wrong code each, all in flight together: only
    # the throttle's free attempts are checked, the rest are refused unseen.
    jars = [await first_step(fetch) for _ in range(10)]
    answers = await asyncio.gather(*(send_code(fetch, jar, wrong_code(ALICE_SECRET)) for jar in jars))
    codes = sorted(a.code for a in answers)
    assert codes.count(401) <= 3 and codes.count(429) >= 7 and not any(sessions(a) for a in answers), codes


# --- where the browser goes next -----------------------------------------------------------------

HOSTILE_NEXT = ["//evil.example/x", "/\\evil.example", "\\\\evil.example", "https://evil.example/",
                "/%2F%2Fevil.example", "javascript:alert(1)", "/\t/evil.example", " //evil.example",
                "/reports\r\nSet-Cookie: x=1"]


def stays_home(location: str) -> bool:
    parts = urlsplit(location)
    return (not parts.scheme and not parts.netloc and location.startswith("/") and not location.startswith("//")
            and "\\" not in location and "\r" not in location and "\n" not in location)


@pytest.mark.gen_test
@pytest.mark.parametrize("next_path", HOSTILE_NEXT)
async def test_next_never_leaves_the_app_after_the_second_step(fetch, next_path):
    jar = await first_step(fetch, next_path=next_path)
    done = await send_code(fetch, jar, code_at(ALICE_SECRET))
    assert done.code == 303 and stays_home(done.headers["Location"]), done.headers["Location"]


@pytest.mark.gen_test
@pytest.mark.parametrize("next_path", HOSTILE_NEXT)
async def test_next_never_leaves_the_app_after_a_passkey(fetch, users, next_path):
    authenticator, jar = SoftAuthenticator(), await signed_in_carol(fetch)
    await register(fetch, jar, authenticator, "laptop")
    browser = new_browser()
    options = json.loads((await post_json(fetch, "sign-in/options", browser, {})).body)
    answer = authenticator.get(options["publicKey"], ORIGIN)
    done = await post_json(fetch, "sign-in", browser, {"state": options["state"], "credential": answer,
                                                       "next": next_path})
    assert done.code == 200 and stays_home(json.loads(done.body)["next"]), done.body


@pytest.mark.gen_test
async def test_next_cannot_break_out_of_the_login_pages_passkey_script(fetch):
    hostile = "/x</script><script>alert(1)</script>\u2028"
    page = await fetch("/auth/login?" + urlencode({"next": hostile}))
    assert page.code == 200
    body = page.body.decode()
    [data] = re.findall(r"<script type=application/json id=stauth-passkeys>(.*?)</script>", body, re.S)
    assert "<" not in data and stays_home(json.loads(data)["next"])
    assert "<script>alert(1)" not in body


# --- a browser holding only the pending cookie has no session -------------------------------------


@pytest.mark.gen_test
async def test_the_pending_cookie_alone_reaches_nothing_that_needs_a_session(fetch, users):
    jar = await first_step(fetch)
    assert await me(fetch, jar) == 401
    account = await fetch("/auth/account", headers={"Cookie": cookie_header(jar)}, follow_redirects=False)
    assert account.code in (302, 303) and "/auth/login" in account.headers["Location"]
    options = await post_json(fetch, "register/options", jar, {"name": "mine", "password": PASSWORD})
    assert options.code == 401
    off = await fetch("/auth/account/totp", method="POST", headers={**SAME_ORIGIN, "Cookie": cookie_header(jar)},
                      body=urlencode({"action": "disable", "password": PASSWORD, "code": code_at(ALICE_SECRET)}))
    assert off.code == 401 and UsersFile(users).accounts()["alice"].has_second_factor


# --- passkey names are data, never markup ---------------------------------------------------------


async def signed_in_carol(fetch) -> dict[str, str]:
    jar = new_browser()
    done = await fetch("/auth/login", method="POST", headers={**SAME_ORIGIN, "Cookie": cookie_header(jar)},
                       body=urlencode({"username": "carol", "password": PASSWORD}))
    assert done.code == 303, done.body[:300]
    return {**jar, **sessions(done)}


async def post_json(fetch, path: str, jar: dict[str, str], body):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await fetch(f"/auth/passkeys/{path}", method="POST", body=data,
                       headers={**SAME_ORIGIN, "Content-Type": "application/json", "Cookie": cookie_header(jar)})


async def register(fetch, jar, authenticator: SoftAuthenticator, name: str):
    options = await post_json(fetch, "register/options", jar, {"name": name, "password": PASSWORD})
    assert options.code == 200, options.body
    ceremony = json.loads(options.body)
    answer = authenticator.create(ceremony["publicKey"], ORIGIN)
    return await post_json(fetch, "register", jar, {"state": ceremony["state"], "credential": answer})


HOSTILE_NAMES = ['</script><img src=x onerror=alert(1)>', 'a "quoted" \\ back\\slash', "it's ]] [users.x] #",
                 '"""\'\'\' ${x} {{y}}', "émoji 🔑 ünïcode"]


@pytest.mark.gen_test
async def test_hostile_passkey_names_round_trip_and_are_escaped(fetch, users):
    authenticator, jar = SoftAuthenticator(), await signed_in_carol(fetch)
    for name in HOSTILE_NAMES:
        done = await register(fetch, jar, authenticator, name)
        assert done.code == 200, (name, done.body)
    stored = [p.name for p in UsersFile(users).accounts()["carol"].passkeys]
    assert stored == HOSTILE_NAMES  # the users file still parses, every name intact
    page = await fetch("/auth/account", headers={"Cookie": cookie_header(jar)})
    assert page.code == 200
    body = page.body.decode()
    assert "<img src=x" not in body and "</script><img" not in body and "<b>Carol</b>" not in body
    for name in HOSTILE_NAMES:
        assert html.escape(name) in body


@pytest.mark.gen_test
@pytest.mark.parametrize("name", ["line\nbreak", "tab\there", "nul\x00", "del\x7f", "\u2028", "\ud800", "",
                                  "   ", "x" * 65, 12, None, ["a"], {"a": 1}])
async def test_unprintable_or_odd_passkey_names_are_a_4xx(fetch, users, name):
    jar = await signed_in_carol(fetch)
    options = await post_json(fetch, "register/options", jar, {"name": name, "password": PASSWORD})
    assert 400 <= options.code < 500 and options.code not in (401, 429), (name, options.code)
    assert UsersFile(users).accounts()["carol"].passkeys == ()


# --- fuzz: odd methods, bodies and values are a 4xx ----------------------------------------------

FORM_PATHS = ["/auth/login/code", "/auth/account/totp", "/auth/forgot", "/auth/reset", "/auth/invite",
              "/auth/passkeys/remove", "/auth/account"]
JSON_PATHS = ["/auth/passkeys/sign-in/options", "/auth/passkeys/sign-in", "/auth/passkeys/register/options",
              "/auth/passkeys/register", "/auth/passkeys/nothing-here"]
ODD_FORMS = [
    b"",
    b"code=%FF%FE&action=enrol&candidate=%C0%AF",
    b"\xff\xfe\x00garbage",
    b"code=1&code=2&code=3&action=code&action=disable&token=a&token=b&identifier=x&identifier=y",
    b"code=" + b"9" * 8000 + b"&identifier=" + b"a" * 4000 + b"&token=" + b"t" * 3000,
    "code=١٢٣٤٥٦&identifier=ｄｏｒａ@ｅｘａｍｐｌｅ.org&new_password=ü&token=%F0%9F%94%91".encode(),
    b"action=enrol&candidate=" + b"A" * 2000 + b"&code=123456",
    b"action=disable&password=x&code=%00%00%00%00%00%00",
    b"%%%%&&&===&=",
]


async def pending_and_session(fetch) -> dict[str, str]:
    """One browser holding everything: a pending step (alice) and a session (carol)."""
    jar = await signed_in_carol(fetch)
    return await first_step(fetch, "alice", jar=jar)


@pytest.mark.gen_test
async def test_odd_form_bodies_on_every_new_endpoint_are_never_a_5xx(fetch):
    jar = await pending_and_session(fetch)
    for path in FORM_PATHS:
        for body in ODD_FORMS:
            for content_type in ("application/x-www-form-urlencoded", "multipart/form-data; boundary=zz",
                                 "application/json"):
                answer = await fetch(path, method="POST", body=body,
                                     headers={**SAME_ORIGIN, "Content-Type": content_type,
                                              "Cookie": cookie_header(jar)})
                assert answer.code < 500, (path, body[:60], content_type, answer.code, answer.body[:300])
                assert b"Traceback" not in answer.body


@pytest.mark.gen_test
async def test_odd_methods_on_every_new_endpoint_are_a_405(fetch):
    jar = await pending_and_session(fetch)
    for path in [*FORM_PATHS, *JSON_PATHS[:-1]]:
        for method in ("PUT", "DELETE", "PATCH"):
            answer = await fetch(path, method=method, body=b"x", allow_nonstandard_methods=True,
                                 headers={**SAME_ORIGIN, "Cookie": cookie_header(jar)})
            assert answer.code == 405, (path, method, answer.code)


ODD_JSON = [b"", b"null", b"[]", b'"x"', b"1e999999", b"{", b'{"state": {"a": 1}, "credential": []}',
            b'{"state": "x", "credential": {"id": 1, "rawId": null, "response": "r", "type": []}}',
            b'{"state": "' + b"s" * 60000 + b'"}', b"[" * 5000 + b"]" * 5000,
            b'{"name": "\\ud800", "next": {"x": 1}}', b'{"credential": {"response": {"clientDataJSON": "%%%"}}}',
            b"\xff\xfe{}", json.dumps({"name": "n" * 30000, "state": "x" * 200, "credential": {"id": "a" * 30000}}).encode()]


@pytest.mark.gen_test
async def test_odd_json_on_every_passkey_step_is_never_a_5xx(fetch):
    jar = await pending_and_session(fetch)
    for path in JSON_PATHS:
        for body in ODD_JSON:
            answer = await fetch(path, method="POST", body=body,
                                 headers={**SAME_ORIGIN, "Content-Type": "application/json",
                                          "Cookie": cookie_header(jar)})
            # sign-in/options reads nothing from the body: it may answer its options
            allowed = (200, 400) if path.endswith("sign-in/options") else (400,)
            assert answer.code // 100 * 100 in allowed, (path, body[:60], answer.code, answer.body[:300])


@pytest.mark.gen_test
async def test_odd_query_values_on_the_link_pages_are_a_4xx(fetch):
    for path in ("/auth/reset", "/auth/invite"):
        for query in ("token=a&token=b", "token=" + "x" * 5000, "token=%00", "token=%FF%FE", "token=../../etc",
                      "token=%F0%9F%94%91" * 10, "token[]=1", ""):
            answer = await fetch(f"{path}?{query}")
            assert 400 <= answer.code < 500, (path, query[:40], answer.code)


# --- reset links: never leaked by the page ---------------------------------------------------------


@pytest.mark.gen_test
async def test_the_reset_page_sends_no_referrer_and_moves_the_token_into_the_form(fetch, users):
    issued = issue_reset(UsersFile(users), "carol", REDIRECT_URI)
    token = parse_qs(urlsplit(issued.url).query)["token"][0]
    page = await fetch(f"/auth/reset?token={token}")
    assert page.code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    body = page.body.decode()
    assert not re.search(r'(src|href)="?https?://', body)  # nothing loaded from, or linked to, elsewhere
    assert f'name=token value="{token}"' in body
    assert not any(token in link for link in re.findall(r'href="([^"]*)"', body))


@pytest.mark.gen_test
@pytest.mark.adapters("tornado")  # Streamlit 1.57+ runs uvicorn with access_log=False: no request lines
async def test_a_live_link_token_never_reaches_the_access_log(fetch, users, caplog):
    # Streamlit 1.56 logs tornado.access at INFO: every request line, with its query.
    issued = issue_reset(UsersFile(users), "carol", REDIRECT_URI)
    token = parse_qs(urlsplit(issued.url).query)["token"][0]
    access = logging.getLogger("tornado.access")  # Streamlit's own handler, not propagated: listen on it
    access.addHandler(caplog.handler)
    try:
        with caplog.at_level("DEBUG", logger="tornado.access"):
            page = await fetch(f"/auth/reset?token={token}")
            gone = await fetch(f"/auth/invite?token={token}x")
    finally:
        access.removeHandler(caplog.handler)
    assert page.code == 200 and gone.code == 400
    lines = [r.getMessage() for r in caplog.records if r.name == "tornado.access"]
    assert any("/auth/reset" in line for line in lines) and any("/auth/invite" in line for line in lines)
    assert not any(token in line for line in lines), lines
