"""``/auth/account`` over HTTP on both adapters: a local user changes their password (the
current one required, the policy applied); the other sessions of the account end, this one
goes on; hostile and cross-site posts change nothing."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "oidc"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

from cookie_jar import cookie_header, set_cookies  # noqa: E402
from cheap_argon2 import use_cheap_hasher  # noqa: E402
from fake_op import FakeOP  # noqa: E402
from rp_helpers import REDIRECT_URI, server_config  # noqa: E402

from stauth_server.core.oidc.client import OIDCClient  # noqa: E402
from stauth_server.core.signin import SignInService  # noqa: E402
from stauth_server.core.sources.local import LocalAccount, UsersFile, hash_password, verify  # noqa: E402
from stauth_server.core.store.memory import MemoryStore  # noqa: E402
from stauth_server.web.routes import RouteRegistry  # noqa: E402

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
PASSWORD = "alice-Pa55word-7f3e"
NEW_PASSWORD = "a-new-Pa55phrase-for-alice"


@pytest.fixture
def routes() -> RouteRegistry:
    registry = RouteRegistry()
    registry.add("/api/me", lambda request: {"id": request.user.id}, auth="required")
    return registry


@pytest.fixture
def users(tmp_path, monkeypatch) -> Path:
    use_cheap_hasher(monkeypatch)
    path = tmp_path / "users.toml"
    UsersFile(path).save([LocalAccount("alice", hash_password(PASSWORD), "alice@example.org", "Alice")])
    return path


@pytest.fixture
def service(users) -> SignInService:
    op = FakeOP()
    config = dataclasses.replace(server_config(op), users_file=users)
    return SignInService(config, store=MemoryStore(),
                         clients={"op": OIDCClient(config.providers["op"], REDIRECT_URI, http=op)})


async def sign_in(fetch) -> dict[str, str]:
    done = await fetch("/auth/login", method="POST", headers=SAME_ORIGIN,
                       body=urlencode({"username": "alice", "password": PASSWORD}))
    assert done.code == 303, done.body
    return {k: v for k, v in set_cookies(done).items() if k.startswith("stauth_session") and v}


async def change(fetch, jar, current=PASSWORD, new=NEW_PASSWORD, headers=SAME_ORIGIN):
    return await fetch("/auth/account", method="POST", headers={**headers, "Cookie": cookie_header(jar)},
                       body=urlencode({"current_password": current, "new_password": new}))


async def me(fetch, jar) -> int:
    return (await fetch("/api/me", headers={"Cookie": cookie_header(jar), "Accept": "application/json"})).code


@pytest.mark.gen_test
async def test_changing_the_password_ends_the_other_sessions_and_keeps_this_browser(fetch, users):
    here, elsewhere = await sign_in(fetch), await sign_in(fetch)
    page = await fetch("/auth/account", headers={"Cookie": cookie_header(here)})
    assert page.code == 200 and b"Change password" in page.body and b"Signed in as Alice" in page.body
    done = await change(fetch, here)
    assert done.code == 303 and done.headers["Location"] == "/auth/account?changed=1"
    renewed = {**here, **{k: v for k, v in set_cookies(done).items() if k.startswith("stauth_session")}}
    assert await me(fetch, renewed) == 200
    assert await me(fetch, elsewhere) == 401  # the other browser's session ended
    assert await me(fetch, here) == 401  # the old cookie of this browser too: it was replaced
    assert verify(UsersFile(users), "alice", NEW_PASSWORD) is not None
    assert verify(UsersFile(users), "alice", PASSWORD) is None


@pytest.mark.gen_test
@pytest.mark.parametrize("current, new, status, message", [
    ("not-the-password", NEW_PASSWORD, 401, b"The current password is wrong."),
    (PASSWORD, "short", 400, b"at least 12"),
    (PASSWORD, "Password12345", 400, b"common"),
    (PASSWORD, PASSWORD, 400, b"other than the current"),
    ("", NEW_PASSWORD, 400, b"Enter your current and your new password."),
])
async def test_a_refused_change_says_why_and_changes_nothing(fetch, users, current, new, status, message):
    jar = await sign_in(fetch)
    answer = await change(fetch, jar, current, new)
    assert answer.code == status and message in answer.body, answer.body[:300]
    assert b"Set up two-factor authentication" in answer.body and b"Passkeys" in answer.body  # the whole page again
    assert not [k for k in set_cookies(answer) if k.startswith("stauth_session")]
    assert verify(UsersFile(users), "alice", PASSWORD) is not None
    assert await me(fetch, jar) == 200


@pytest.mark.gen_test
async def test_an_unreadable_users_file_is_a_503_not_a_crash(fetch, users):
    jar = await sign_in(fetch)
    users.write_text("[users.alice\nnot toml")
    page = await fetch("/auth/account", headers={"Cookie": cookie_header(jar)})
    assert page.code == 503 and b"Traceback" not in page.body  # the session cannot be checked against it


@pytest.mark.gen_test
async def test_a_cross_site_post_is_refused(fetch, users):
    jar = await sign_in(fetch)
    answer = await change(fetch, jar, headers={"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
    assert answer.code == 403
    assert verify(UsersFile(users), "alice", PASSWORD) is not None


@pytest.mark.gen_test
async def test_visitors_are_sent_to_sign_in_and_other_methods_refused(fetch):
    visitor = await fetch("/auth/account")
    assert visitor.code == 302 and visitor.headers["Location"] == "/auth/login?next=%2Fauth%2Faccount"
    assert (await fetch("/auth/account", method="DELETE")).code == 405


@pytest.mark.gen_test
async def test_guessing_the_current_password_is_throttled(fetch, users):
    jar = await sign_in(fetch)
    codes = [(await change(fetch, jar, current=f"guess-{i}")).code for i in range(6)]
    assert codes[0] == 401 and codes[-1] == 429
    assert verify(UsersFile(users), "alice", PASSWORD) is not None
