"""``/auth/forgot``, ``/auth/reset`` and ``/auth/invite`` over HTTP on both adapters.

A forgot-password request answers the same bytes for a known, unknown or disabled account
(and before any mail is sent); a reset link sets the password once, ends every session of
the account and sends the browser to sign in; an invitation link signs the person in. The
attacker's probes (a reused, expired, foreign-purpose, password-changed, malformed or
guessed link, a cross-site post) get one refusal and change nothing."""

from __future__ import annotations

import sys
import threading
import time
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "oidc"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

from cookie_jar import cookie_header, set_cookies  # noqa: E402
from cheap_argon2 import use_cheap_hasher  # noqa: E402
from rp_helpers import SECRET  # noqa: E402

from stauth_server.core.accounts.links import LINK_LIFETIMES, RESET  # noqa: E402
from stauth_server.core.accounts.recovery_flows import INVALID_LINK, invite, issue_reset  # noqa: E402
from stauth_server.core.config import ServerConfig  # noqa: E402
from stauth_server.core.signin import SignInService  # noqa: E402
from stauth_server.core.sources.local import LocalAccount, UsersFile, hash_password, verify  # noqa: E402
from stauth_server.core.store.memory import MemoryStore  # noqa: E402
from stauth_server.web.recovery_pages import RESET_REQUESTED  # noqa: E402
from stauth_server.web.routes import RouteRegistry  # noqa: E402

REDIRECT_URI = "https://app.example.org/oauth2callback"
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
CROSS_SITE = {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
PASSWORD = "alice-Pa55word-7f3e"
NEW_PASSWORD = "a-new-Pa55phrase-for-alice"


class RecordingMailer:
    """Keeps what would be e-mailed; ``hold`` keeps ``send`` waiting until it is set."""

    def __init__(self) -> None:
        self.sent: list[tuple[EmailMessage, str]] = []
        self.hold = threading.Event()
        self.hold.set()

    def send(self, message: EmailMessage, link: str) -> None:
        self.hold.wait(10)
        self.sent.append((message, link))


@pytest.fixture
def routes() -> RouteRegistry:
    registry = RouteRegistry()
    registry.add("/api/me", lambda request: {"id": request.user.id}, auth="required")
    return registry


@pytest.fixture
def users(tmp_path, monkeypatch) -> Path:
    use_cheap_hasher(monkeypatch)
    path = tmp_path / "users.toml"
    UsersFile(path).save([LocalAccount("alice", hash_password(PASSWORD), "alice@example.org", "Alice"),
                          LocalAccount("dora", hash_password(PASSWORD), "dora@example.org", disabled=True)])
    return path


@pytest.fixture
def redirect_uri() -> str | None:
    return REDIRECT_URI


@pytest.fixture
def service(users, redirect_uri) -> SignInService:
    config = ServerConfig(redirect_uri=redirect_uri, cookie_secrets=(SECRET,), users_file=users)
    return SignInService(config, store=MemoryStore())


@pytest.fixture
def mailer(service) -> RecordingMailer:
    recording = RecordingMailer()
    service.links.mailer = recording
    return recording


@pytest.fixture
def requests_made(service) -> list:
    """The background jobs of forgot-password requests, to wait for (None: nothing done)."""
    futures: list = []
    original = service.links.request_reset

    def recorded(*args, **kwargs):
        futures.append(original(*args, **kwargs))
        return futures[-1]

    service.links.request_reset = recorded
    return futures


def settle(futures: list) -> None:
    for future in futures:
        if future is not None:
            future.result(timeout=10)


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


async def sign_in(fetch, password=PASSWORD) -> dict[str, str]:
    done = await fetch("/auth/login", method="POST", headers=SAME_ORIGIN,
                       body=urlencode({"username": "alice", "password": password}))
    assert done.code == 303, done.body
    return {k: v for k, v in set_cookies(done).items() if k.startswith("stauth_session") and v}


async def forgot(fetch, identifier, headers=SAME_ORIGIN):
    return await fetch("/auth/forgot", method="POST", headers=headers, body=urlencode({"identifier": identifier}))


async def set_password(fetch, path, token, new=NEW_PASSWORD, headers=SAME_ORIGIN):
    return await fetch(path, method="POST", headers=headers,
                       body=urlencode({"token": token, "new_password": new}))


async def me(fetch, jar) -> int:
    return (await fetch("/api/me", headers={"Cookie": cookie_header(jar), "Accept": "application/json"})).code


def reset_token(users: Path, now: float | None = None) -> str:
    issued = issue_reset(UsersFile(users), "alice", REDIRECT_URI, now=now)
    assert issued is not None
    return token_of(issued.url)


# --- forgot password --------------------------------------------------------------------


@pytest.mark.gen_test
async def test_the_login_page_offers_forgot_password_and_its_form(fetch):
    login = await fetch("/auth/login")
    assert b'href="/auth/forgot">Forgot your password?</a>' in login.body
    page = await fetch("/auth/forgot")
    assert page.code == 200 and b'name=identifier' in page.body and b'name="_xsrf"' in page.body
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"


@pytest.mark.gen_test
async def test_a_known_unknown_or_disabled_account_reads_exactly_the_same(fetch, mailer, requests_made):
    answers = [await forgot(fetch, who) for who in ("alice@example.org", "nobody@example.org", "dora")]
    settle(requests_made)
    assert {a.code for a in answers} == {200}
    assert answers[0].body == answers[1].body == answers[2].body
    assert RESET_REQUESTED.encode() in answers[0].body
    assert [m["To"] for m, _ in mailer.sent] == ["alice@example.org"]


@pytest.mark.gen_test
async def test_the_answer_does_not_wait_for_the_mail(fetch, mailer, requests_made):
    mailer.hold.clear()  # the SMTP server is slow
    started = time.monotonic()
    answer = await forgot(fetch, "alice")
    assert answer.code == 200 and time.monotonic() - started < 5
    assert mailer.sent == []  # still being sent
    mailer.hold.set()
    settle(requests_made)
    assert len(mailer.sent) == 1


@pytest.mark.gen_test
async def test_requests_for_one_account_are_throttled_and_read_the_same(fetch, mailer, requests_made):
    answers = [await forgot(fetch, "alice") for _ in range(5)]
    settle(requests_made)
    assert len({(a.code, a.body) for a in answers}) == 1
    assert len(mailer.sent) == 3


@pytest.mark.gen_test
async def test_a_cross_site_request_is_refused_and_sends_nothing(fetch, mailer, requests_made):
    answer = await forgot(fetch, "alice", headers=CROSS_SITE)
    assert answer.code == 403 and requests_made == [] and mailer.sent == []


@pytest.mark.gen_test
async def test_an_empty_request_asks_again(fetch, requests_made):
    answer = await forgot(fetch, "  ")
    assert answer.code == 400 and b"Enter your username or e-mail address." in answer.body and requests_made == []


class TestWithoutRedirectUri:
    """No ``[auth] redirect_uri``: a link cannot be built safely (never from the Host header)."""

    @pytest.fixture
    def redirect_uri(self) -> None:
        return None

    @pytest.mark.gen_test
    async def test_no_forgot_link_and_no_forgot_page(self, fetch):
        assert b"Forgot your password?" not in (await fetch("/auth/login")).body
        assert (await fetch("/auth/forgot")).code == 404


# --- reset links --------------------------------------------------------------------------


@pytest.mark.gen_test
async def test_a_reset_link_sets_the_password_ends_every_session_and_works_once(fetch, users, mailer, requests_made):
    open_elsewhere = await sign_in(fetch)
    await forgot(fetch, "alice")
    settle(requests_made)
    [(message, link)] = mailer.sent
    assert link in message.get_content()
    token = token_of(link)
    form = await fetch(f"/auth/reset?token={token}")
    assert form.code == 200 and b"Choose a new password" in form.body and token.encode() in form.body
    done = await set_password(fetch, "/auth/reset", token)
    assert done.code == 303 and done.headers["Location"] == "/auth/login?reset=1"
    assert not [k for k, v in set_cookies(done).items() if k.startswith("stauth_session") and v]  # no sign-in
    notice = await fetch("/auth/login?reset=1")
    assert b"Your password was changed. Sign in with it." in notice.body
    assert await me(fetch, open_elsewhere) == 401
    assert verify(UsersFile(users), "alice", NEW_PASSWORD) is not None
    assert verify(UsersFile(users), "alice", PASSWORD) is None
    again = await set_password(fetch, "/auth/reset", token, "yet-another-Pa55phrase")
    assert again.code == 400 and INVALID_LINK.encode() in again.body
    assert verify(UsersFile(users), "alice", NEW_PASSWORD) is not None


async def refused_page(fetch, path: str, token: str):
    shown = await fetch(f"{path}?token={quote(token, safe='')}")
    posted = await set_password(fetch, path, token)
    assert shown.code == posted.code == 400, (shown.code, posted.code)
    assert INVALID_LINK.encode() in shown.body and INVALID_LINK.encode() in posted.body
    return shown


@pytest.mark.gen_test
async def test_expired_password_changed_and_wrong_purpose_links_get_the_same_refusal(fetch, users):
    expired = reset_token(users, now=time.time() - LINK_LIFETIMES[RESET] - 1)
    pages = [await refused_page(fetch, "/auth/reset", expired)]
    changed = reset_token(users)
    jar = await sign_in(fetch)
    done = await fetch("/auth/account", method="POST", headers={**SAME_ORIGIN, "Cookie": cookie_header(jar)},
                       body=urlencode({"current_password": PASSWORD, "new_password": NEW_PASSWORD}))
    assert done.code == 303
    pages.append(await refused_page(fetch, "/auth/reset", changed))
    pages.append(await refused_page(fetch, "/auth/invite", reset_token(users)))
    assert len({p.body for p in pages}) == 1
    assert verify(UsersFile(users), "alice", NEW_PASSWORD) is not None


@pytest.mark.gen_test
@pytest.mark.parametrize("token", ["", "short", "A" * 43, "<script>alert(1)</script>", "%00", "a" * 5000,
                                   "é" * 20])
async def test_malformed_or_guessed_tokens_get_the_refusal_not_an_error(fetch, users, token):
    reset_token(users)
    page = await fetch(f"/auth/reset?token={quote(token, safe='%')}")
    assert page.code == 400 and INVALID_LINK.encode() in page.body and b"<script>alert" not in page.body
    posted = await set_password(fetch, "/auth/reset", token)
    assert posted.code == 400
    assert verify(UsersFile(users), "alice", PASSWORD) is not None


@pytest.mark.gen_test
async def test_a_token_that_is_not_utf8_is_a_plain_400(fetch, users):
    assert (await fetch("/auth/reset?token=%ff%fe")).code == 400
    posted = await fetch("/auth/reset", method="POST", headers=SAME_ORIGIN, body="token=%ff%fe&new_password=x")
    assert posted.code == 400
    assert verify(UsersFile(users), "alice", PASSWORD) is not None


@pytest.mark.gen_test
async def test_guessing_links_is_throttled_per_address(fetch, users):
    token = reset_token(users)
    codes = [(await set_password(fetch, "/auth/reset", "A" * 43)).code for _ in range(6)]
    assert codes[0] == 400 and codes[-1] == 429
    throttled = await set_password(fetch, "/auth/reset", token)
    assert throttled.code == 429 and "Retry-After" in throttled.headers
    assert verify(UsersFile(users), "alice", PASSWORD) is not None


@pytest.mark.gen_test
async def test_a_cross_site_post_changes_nothing(fetch, users):
    token = reset_token(users)
    answer = await set_password(fetch, "/auth/reset", token, headers=CROSS_SITE)
    assert answer.code == 403
    assert verify(UsersFile(users), "alice", PASSWORD) is not None
    assert (await fetch(f"/auth/reset?token={token}")).code == 200  # the link still works


@pytest.mark.gen_test
@pytest.mark.parametrize("new, message", [("short", b"at least 12"), ("Password12345", b"common"),
                                          ("", b"at least 12")])
async def test_a_refused_password_says_why_and_the_link_stays_usable(fetch, users, new, message):
    token = reset_token(users)
    answer = await set_password(fetch, "/auth/reset", token, new)
    assert answer.code == 400 and message in answer.body and token.encode() in answer.body
    assert (await set_password(fetch, "/auth/reset", token)).code == 303


@pytest.mark.gen_test
async def test_other_methods_are_refused(fetch):
    for path in ("/auth/forgot", "/auth/reset", "/auth/invite"):
        assert (await fetch(path, method="DELETE")).code == 405


# --- invitations --------------------------------------------------------------------------


@pytest.mark.gen_test
async def test_an_invitation_link_sets_the_password_and_signs_the_person_in_once(fetch, users):
    token = token_of(invite(UsersFile(users), "zoe@example.org", REDIRECT_URI, username="zoe", name="Zoe").url)
    form = await fetch(f"/auth/invite?token={token}")
    assert form.code == 200 and b"Set your password" in form.body and b"zoe" in form.body
    done = await set_password(fetch, "/auth/invite", token, "zoe-chose-a-Pa55phrase")
    assert done.code == 303 and done.headers["Location"] == "/"
    jar = {k: v for k, v in set_cookies(done).items() if k.startswith("stauth_session") and v}
    answer = await fetch("/api/me", headers={"Cookie": cookie_header(jar), "Accept": "application/json"})
    assert answer.code == 200 and b'"local|zoe"' in answer.body, answer.body
    assert not UsersFile(users).accounts()["zoe"].disabled
    again = await set_password(fetch, "/auth/invite", token, "zoe-tries-Pa55phrase-again")
    assert again.code == 400 and INVALID_LINK.encode() in again.body


@pytest.mark.gen_test
async def test_an_invitation_cannot_be_accepted_cross_site(fetch, users):
    token = token_of(invite(UsersFile(users), "zoe@example.org", REDIRECT_URI, username="zoe").url)
    answer = await set_password(fetch, "/auth/invite", token, "zoe-chose-a-Pa55phrase", headers=CROSS_SITE)
    assert answer.code == 403 and UsersFile(users).accounts()["zoe"].disabled


@pytest.mark.gen_test
async def test_an_invited_account_cannot_ask_for_a_reset(fetch, users, mailer, requests_made):
    invite(UsersFile(users), "zoe@example.org", REDIRECT_URI, username="zoe")
    answer = await forgot(fetch, "zoe")
    settle(requests_made)
    assert answer.code == 200 and mailer.sent == []



class TestUnderABasePath:
    """``server.baseUrlPath``: every link and redirect stays under it."""

    @pytest.fixture
    def base_path(self) -> str:
        return "/team"

    @pytest.mark.gen_test
    async def test_links_and_redirects_stay_under_the_base_path(self, fetch, users):
        assert b'href="/team/auth/forgot"' in (await fetch("/team/auth/login")).body
        token = reset_token(users)
        form = await fetch(f"/team/auth/reset?token={token}")
        assert form.code == 200 and b'action="/team/auth/reset"' in form.body
        done = await set_password(fetch, "/team/auth/reset", token)
        assert done.code == 303 and done.headers["Location"] == "/team/auth/login?reset=1"
        assert (await fetch("/auth/forgot")).code == 404
