"""The TOTP second factor over HTTP on both adapters: the second sign-in step
(``/auth/login/code``), enrolment required by ``[auth.local] require_second_factor``, and the
account page's set-up and turn-off forms (``/auth/account/totp``), with the attacker's
probes: wrong, replayed and used codes, forged, expired and foreign pending cookies,
cross-site posts, guessing, a candidate secret from another account."""

from __future__ import annotations

import dataclasses
import html
import json
import logging
import re
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pyotp
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "oidc"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

from cookie_jar import cookie_header, set_cookies  # noqa: E402
from cheap_argon2 import use_cheap_hasher  # noqa: E402
from fake_op import FakeOP  # noqa: E402
from rp_helpers import REDIRECT_URI, SECRET, server_config  # noqa: E402

from stauth_server.core.accounts import pending as pending_module  # noqa: E402
from stauth_server.core.accounts.second_factor import enrol_totp  # noqa: E402
from stauth_server.core.accounts.secret_box import SecretBox  # noqa: E402
from stauth_server.core.accounts.totp import INTERVAL, new_secret  # noqa: E402
from stauth_server.core.oidc.client import OIDCClient  # noqa: E402
from stauth_server.core.signin import SignInService  # noqa: E402
from stauth_server.core.sources.local import LocalAccount, UsersFile, hash_password  # noqa: E402
from stauth_server.core.store.memory import MemoryStore  # noqa: E402
from stauth_server.web.routes import RouteRegistry  # noqa: E402

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
CROSS_SITE = {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
PASSWORD = "alice-Pa55word-7f3e"
PENDING = "stauth_second_step"
ALICE_SECRET = new_secret()


def code_at(secret: str, steps_from_now: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + steps_from_now * INTERVAL)


@pytest.fixture
def routes() -> RouteRegistry:
    registry = RouteRegistry()
    registry.add("/api/me", lambda request: {"id": request.user.id}, auth="required")
    return registry


@pytest.fixture
def users(tmp_path, monkeypatch) -> Path:
    """alice has a second factor (enrolled with last step's code); bob is an admin and carol
    a plain user, neither with one."""
    use_cheap_hasher(monkeypatch)
    path = tmp_path / "users.toml"
    UsersFile(path).save([
        LocalAccount("alice", hash_password(PASSWORD), "alice@example.org", "Alice"),
        LocalAccount("bob", hash_password(PASSWORD), "bob@example.org", "Bob", roles=("admin",)),
        LocalAccount("carol", hash_password(PASSWORD), "carol@example.org", "Carol"),
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
    op = FakeOP()
    config = dataclasses.replace(server_config(op), users_file=users, require_second_factor=require)
    return SignInService(config, store=MemoryStore(),
                         clients={"op": OIDCClient(config.providers["op"], REDIRECT_URI, http=op)})


def sessions(response) -> dict[str, str]:
    return {k: v for k, v in set_cookies(response).items() if k.startswith("stauth_session") and v}


async def password(fetch, username="alice", next_path="/reports"):
    return await fetch("/auth/login", method="POST", headers=SAME_ORIGIN,
                       body=urlencode({"username": username, "password": PASSWORD, "next": next_path}))


async def first_step(fetch, username="alice", next_path="/reports") -> dict[str, str]:
    """The password accepted: the pending cookie, and no session."""
    done = await password(fetch, username, next_path)
    assert done.code == 303 and done.headers["Location"] == "/auth/login/code", done.body[:300]
    assert not sessions(done)
    jar = set_cookies(done)
    assert jar.get(PENDING)
    return {PENDING: jar[PENDING]}


async def send_code(fetch, jar, code, headers=SAME_ORIGIN, **form):
    return await fetch("/auth/login/code", method="POST", headers={**headers, "Cookie": cookie_header(jar)},
                       body=urlencode({"action": "code", "code": code, **form}))


async def me(fetch, jar) -> int:
    return (await fetch("/api/me", headers={"Cookie": cookie_header(jar), "Accept": "application/json"})).code


def field(body: bytes, name: str) -> str:
    found = re.search(rf'name="?{name}"? value="([^"]*)"', body.decode())
    assert found, name
    return html.unescape(found.group(1))


def shown_secret(body: bytes) -> str:
    found = re.search(r"<code class=secret id=totp-secret>([A-Z2-7]+)</code>", body.decode())
    assert found
    return found.group(1)


def shown_codes(body: bytes) -> list[str]:
    listed = re.search(r"<ol class=codes id=recovery-codes>(.*?)</ol>", body.decode())
    assert listed
    return re.findall(r"<li>([^<]+)</li>", listed.group(1))


# --- the second sign-in step ----------------------------------------------------------------


@pytest.mark.gen_test
async def test_the_password_alone_does_not_sign_in_an_account_with_a_second_factor(fetch):
    done = await password(fetch)
    assert done.code == 303 and done.headers["Location"] == "/auth/login/code"
    [header] = [h for h in done.headers.get_list("Set-Cookie") if h.startswith(PENDING + "=")]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Max-Age=300" in header
    assert "alice" not in header
    jar = set_cookies(done)
    assert not sessions(done) and await me(fetch, jar) == 401
    page = await fetch("/auth/login/code", headers={"Cookie": cookie_header(jar)})
    assert page.code == 200 and b"Two-factor authentication" in page.body and b'name=code' in page.body
    assert page.headers["X-Frame-Options"] == "DENY" and "frame-ancestors" in page.headers["Content-Security-Policy"]


@pytest.mark.gen_test
async def test_the_right_code_signs_in_and_goes_on_to_next(fetch):
    jar = await first_step(fetch)
    done = await send_code(fetch, jar, code_at(ALICE_SECRET))
    assert done.code == 303 and done.headers["Location"] == "/reports"
    assert set_cookies(done)[PENDING] == ""  # the step's cookie cleared
    assert await me(fetch, sessions(done)) == 200
    again = await send_code(fetch, jar, code_at(ALICE_SECRET, 1))
    assert again.code == 400 and b"Sign in again" in again.body  # the step is over


@pytest.mark.gen_test
async def test_a_wrong_code_keeps_the_step_and_the_right_one_then_works(fetch):
    jar = await first_step(fetch)
    wrong = await send_code(fetch, jar, "000000" if code_at(ALICE_SECRET) != "000000" else "111111")
    assert wrong.code == 401 and b"not right" in wrong.body and not sessions(wrong)
    done = await send_code(fetch, jar, code_at(ALICE_SECRET))
    assert done.code == 303 and await me(fetch, sessions(done)) == 200


@pytest.mark.gen_test
async def test_a_code_used_once_is_refused_when_replayed(fetch):
    code = code_at(ALICE_SECRET)
    done = await send_code(fetch, await first_step(fetch), code)
    assert done.code == 303
    replay = await send_code(fetch, await first_step(fetch), code)
    assert replay.code == 401 and not sessions(replay)
    older = await send_code(fetch, await first_step(fetch), code_at(ALICE_SECRET, -1))
    assert older.code == 401 and not sessions(older)


@pytest.mark.gen_test
async def test_a_recovery_code_signs_in_once(fetch, recovery, users):
    first = await send_code(fetch, await first_step(fetch), recovery[0].upper())
    assert first.code == 303 and await me(fetch, sessions(first)) == 200
    again = await send_code(fetch, await first_step(fetch), recovery[0])
    assert again.code == 401 and not sessions(again)
    assert len(UsersFile(users).accounts()["alice"].recovery_codes) == 9


@pytest.mark.gen_test
@pytest.mark.parametrize("cookie", ["forged", "gAAAAABforged-but-looks-like-fernet", ""])
async def test_a_forged_or_missing_pending_cookie_asks_to_sign_in_again(fetch, cookie):
    jar = {PENDING: cookie} if cookie else {}
    for answer in (await fetch("/auth/login/code", headers={"Cookie": cookie_header(jar)}),
                   await send_code(fetch, jar, "123456")):
        assert answer.code == 400 and b"Sign in again" in answer.body
        assert b'href="/auth/login?next=%2F"' in answer.body and not sessions(answer)


@pytest.mark.gen_test
async def test_an_expired_pending_step_is_refused(fetch, monkeypatch):
    monkeypatch.setattr(pending_module, "PENDING_SECONDS", 1)
    jar = await first_step(fetch)
    time.sleep(2.1)
    answer = await send_code(fetch, jar, code_at(ALICE_SECRET))
    assert answer.code == 400 and b"expired" in answer.body and not sessions(answer)


@pytest.mark.gen_test
async def test_the_pending_cookie_of_another_browser_does_not_work(fetch):
    xsrf = "2|0a0b0c0d|1a2b3c4d5e6f708192a3b4c5d6e7f809|1700000000"
    done = await fetch("/auth/login", method="POST", headers={**SAME_ORIGIN, "Cookie": f"_streamlit_xsrf={xsrf}"},
                       body=urlencode({"username": "alice", "password": PASSWORD}))
    assert done.code == 303
    stolen = {PENDING: set_cookies(done)[PENDING], "_streamlit_xsrf": "2|01020304|ffeeddccbbaa99887766554433221100|1"}
    answer = await send_code(fetch, stolen, code_at(ALICE_SECRET))
    assert answer.code == 400 and not sessions(answer)
    own = await send_code(fetch, {**stolen, "_streamlit_xsrf": xsrf}, code_at(ALICE_SECRET))
    assert own.code == 303 and sessions(own)  # the browser that passed the password goes on


@pytest.mark.gen_test
async def test_a_cross_site_code_post_is_refused(fetch):
    jar = await first_step(fetch)
    answer = await send_code(fetch, jar, code_at(ALICE_SECRET), headers=CROSS_SITE)
    assert answer.code == 403 and not sessions(answer)


@pytest.mark.gen_test
async def test_guessing_codes_is_throttled_and_ends_the_step(fetch):
    jar = await first_step(fetch)
    wrong = "000000" if code_at(ALICE_SECRET) != "000000" else "111111"
    statuses = [(await send_code(fetch, jar, wrong)).code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    after = await send_code(fetch, jar, code_at(ALICE_SECRET))
    assert after.code == 400 and not sessions(after)  # the step ended with the throttle
    # a correct password does not clear the failed codes: still throttled
    again = await send_code(fetch, await first_step(fetch), code_at(ALICE_SECRET))
    assert again.code == 429 and not sessions(again)


@pytest.mark.gen_test
async def test_an_account_without_a_second_factor_signs_in_with_its_password(fetch):
    done = await password(fetch, "carol")
    assert done.code == 303 and done.headers["Location"] == "/reports" and await me(fetch, sessions(done)) == 200


# --- enrolment required at sign-in -------------------------------------------------------------


@pytest.mark.gen_test
@pytest.mark.parametrize("require", [("admin",)])
async def test_a_required_second_factor_is_set_up_before_the_session_starts(fetch, users, require):
    carol = await password(fetch, "carol")
    assert carol.code == 303 and carol.headers["Location"] == "/reports"  # not an admin
    jar = await first_step(fetch, "bob")
    assert await me(fetch, jar) == 401
    page = await fetch("/auth/login/code", headers={"Cookie": cookie_header(jar)})
    assert page.code == 200 and b"Two-factor authentication required" in page.body and b"<svg" in page.body
    assert b"Current password" not in page.body  # the password was checked a moment ago
    secret, candidate = shown_secret(page.body), field(page.body, "candidate")
    assert secret not in candidate
    skipped = await send_code(fetch, jar, code_at(secret))  # no set-up form: cannot be skipped
    assert skipped.code in (400, 401) and not sessions(skipped)
    jar = await first_step(fetch, "bob")
    wrong = await send_code(fetch, jar, "000000" if code_at(secret) != "000000" else "111111",
                            action="enrol", candidate=candidate)
    assert wrong.code == 401 and not sessions(wrong) and shown_secret(wrong.body) == secret
    done = await send_code(fetch, jar, code_at(secret), action="enrol", candidate=candidate)
    assert done.code == 200 and len(shown_codes(done.body)) == 10
    assert b'href="/reports"' in done.body and await me(fetch, sessions(done)) == 200
    assert UsersFile(users).accounts()["bob"].has_second_factor


@pytest.mark.gen_test
@pytest.mark.parametrize("require", [True])
async def test_required_of_everyone_applies_to_an_account_without_roles(fetch, require):
    jar = await first_step(fetch, "carol")
    page = await fetch("/auth/login/code", headers={"Cookie": cookie_header(jar)})
    assert b"Two-factor authentication required" in page.body


# --- the account page -----------------------------------------------------------------------


async def signed_in(fetch, username="carol") -> dict[str, str]:
    done = await password(fetch, username)
    assert done.code == 303
    return sessions(done)


async def account_post(fetch, jar, headers=SAME_ORIGIN, **form):
    return await fetch("/auth/account/totp", method="POST", headers={**headers, "Cookie": cookie_header(jar)},
                       body=urlencode(form))


async def account_enrol(fetch, jar, headers=SAME_ORIGIN, password=PASSWORD, **form):
    """The account page's set-up form, with the current password unless told otherwise."""
    fields = {"action": "enrol", **({"password": password} if password is not None else {}), **form}
    return await account_post(fetch, jar, headers, **fields)


@pytest.mark.gen_test
async def test_setting_up_on_the_account_page_shows_the_recovery_codes_once(fetch, users):
    jar = await signed_in(fetch)
    page = await fetch("/auth/account", headers={"Cookie": cookie_header(jar)})
    assert page.code == 200 and b"Set up two-factor authentication" in page.body and b"<svg" in page.body
    secret, candidate = shown_secret(page.body), field(page.body, "candidate")
    assert secret not in candidate and "otpauth://totp/" in page.body.decode()
    assert f"secret={secret}" in page.body.decode()
    assert 'src="http' not in page.body.decode()  # the QR code is drawn here: no request elsewhere
    done = await account_enrol(fetch, jar, candidate=candidate, code=code_at(secret))
    assert done.code == 200 and len(set(shown_codes(done.body))) == 10
    assert done.headers["X-Frame-Options"] == "DENY" and done.headers["Cache-Control"] == "no-store"
    assert UsersFile(users).accounts()["carol"].has_second_factor
    again = await account_enrol(fetch, jar, candidate=candidate, code=code_at(secret, 1))
    assert again.code == 400 and b"already set up" in again.body
    enrolled = await fetch("/auth/account", headers={"Cookie": cookie_header(jar)})
    assert b"Turn off two-factor authentication" in enrolled.body and b"10 recovery codes left" in enrolled.body
    assert (await password(fetch, "carol")).headers["Location"] == "/auth/login/code"


@pytest.mark.gen_test
async def test_a_candidate_secret_sealed_for_another_account_is_refused(fetch, users):
    bob = await signed_in(fetch, "bob")
    page = await fetch("/auth/account", headers={"Cookie": cookie_header(bob)})
    secret, candidate = shown_secret(page.body), field(page.body, "candidate")
    carol = await signed_in(fetch, "carol")
    answer = await account_enrol(fetch, carol, candidate=candidate, code=code_at(secret))
    assert answer.code in (400, 401) and not UsersFile(users).accounts()["carol"].has_second_factor
    plain = await account_enrol(fetch, carol, candidate=secret, code=code_at(secret))
    assert plain.code in (400, 401) and not UsersFile(users).accounts()["carol"].has_second_factor


@pytest.mark.gen_test
async def test_account_forms_refuse_cross_site_posts_and_visitors(fetch, users):
    jar = await signed_in(fetch)
    page = await fetch("/auth/account", headers={"Cookie": cookie_header(jar)})
    secret, candidate = shown_secret(page.body), field(page.body, "candidate")
    cross = await account_enrol(fetch, jar, headers=CROSS_SITE, candidate=candidate,
                               code=code_at(secret))
    assert cross.code == 403 and not UsersFile(users).accounts()["carol"].has_second_factor
    visitor = await account_enrol(fetch, {}, candidate=candidate, code=code_at(secret))
    assert visitor.code == 401
    assert (await fetch("/auth/account/totp")).code == 405


@pytest.mark.gen_test
async def test_turning_it_off_needs_the_password_and_a_code(fetch, users, recovery):
    done = await send_code(fetch, await first_step(fetch), code_at(ALICE_SECRET))
    jar = sessions(done)
    no_password = await account_post(fetch, jar, action="disable", password="wrong-password-123",
                                     code=code_at(ALICE_SECRET, 1))
    assert no_password.code == 401 and UsersFile(users).accounts()["alice"].has_second_factor
    no_code = await account_post(fetch, jar, action="disable", password=PASSWORD, code="12345x")
    assert no_code.code == 401 and UsersFile(users).accounts()["alice"].has_second_factor
    empty = await account_post(fetch, jar, action="disable", password=PASSWORD, code="")
    assert empty.code == 400
    off = await account_post(fetch, jar, action="disable", password=PASSWORD, code=recovery[3])
    assert off.code == 303 and off.headers["Location"] == "/auth/account?totp=off"
    account = UsersFile(users).accounts()["alice"]
    assert not account.has_second_factor and account.recovery_codes == ()
    signed = await password(fetch)
    assert signed.code == 303 and signed.headers["Location"] == "/reports"


@pytest.mark.gen_test
async def test_guessing_codes_on_the_account_page_is_throttled(fetch, users):
    jar = await signed_in(fetch)
    page = await fetch("/auth/account", headers={"Cookie": cookie_header(jar)})
    secret, candidate = shown_secret(page.body), field(page.body, "candidate")
    wrong = "000000" if code_at(secret) != "000000" else "111111"
    statuses = [(await account_enrol(fetch, jar, candidate=candidate, code=wrong)).code
                for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    refused = await account_enrol(fetch, jar, candidate=candidate, code=code_at(secret))
    assert refused.code == 429 and not UsersFile(users).accounts()["carol"].has_second_factor


@pytest.mark.gen_test
@pytest.mark.parametrize("given", [None, "", "wrong-password-123"])
async def test_a_session_without_the_password_cannot_turn_it_on(fetch, users, caplog, given):
    jar = await signed_in(fetch)  # a stolen session: the thief has the cookie, not the password
    page = await fetch("/auth/account", headers={"Cookie": cookie_header(jar)})
    assert b"Current password" in page.body and b"id=totp-enrol-password" in page.body
    secret, candidate = shown_secret(page.body), field(page.body, "candidate")
    with caplog.at_level(logging.INFO, logger="stauth.audit"):
        refused = await account_enrol(fetch, jar, password=given, candidate=candidate, code=code_at(secret))
    assert refused.code == 401 and b"Your current password is not right." in refused.body
    assert b"id=totp-enrol-password" in refused.body  # the form again, to try once more
    assert not UsersFile(users).accounts()["carol"].has_second_factor
    events = [json.loads(r.getMessage()) for r in caplog.records if r.name == "stauth.audit"]
    assert any(e["event"] == "second_factor_failed" and e.get("reason") == "bad_password" for e in events)
    assert all("enrolled" not in e["event"] for e in events)
    done = await account_enrol(fetch, jar, candidate=candidate, code=code_at(secret))
    assert done.code == 200 and UsersFile(users).accounts()["carol"].has_second_factor


@pytest.mark.gen_test
async def test_guessing_the_password_on_the_set_up_form_is_throttled(fetch, users):
    jar = await signed_in(fetch)
    page = await fetch("/auth/account", headers={"Cookie": cookie_header(jar)})
    secret, candidate = shown_secret(page.body), field(page.body, "candidate")
    statuses = [(await account_enrol(fetch, jar, password=f"guess-{i}", candidate=candidate,
                                     code=code_at(secret))).code for i in range(4)]
    assert statuses == [401, 401, 401, 429]
    refused = await account_enrol(fetch, jar, candidate=candidate, code=code_at(secret))
    assert refused.code == 429 and b"Too many attempts" in refused.body
    assert not UsersFile(users).accounts()["carol"].has_second_factor
    assert (await password(fetch, "carol")).code == 429  # the same throttle as the password form
