"""``/auth/login`` with local accounts and LDAP, over both adapters: one form and one answer,
the chooser only when configured, the app's title escaped."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

from cheap_argon2 import use_cheap_hasher  # noqa: E402

from stauth_server.core import hooks  # noqa: E402
from stauth_server.core.config import ServerConfig  # noqa: E402
from stauth_server.core.login_branding import LoginBranding  # noqa: E402
from stauth_server.core.signin import SignInService  # noqa: E402
from stauth_server.core.sources.ldap import LdapConfig  # noqa: E402
from stauth_server.core.sources.local import LocalAccount, UsersFile, hash_password  # noqa: E402
from stauth_server.core.store.memory import MemoryStore  # noqa: E402
from stauth_server.web.routes import RouteRegistry  # noqa: E402

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
TITLE = '<script>alert("x")</script> & Co'


class Directory:
    """Stands in for the LDAP source: carol only."""

    def authenticate(self, username: str, password: str) -> dict[str, Any] | None:
        if (username, password) != ("carol", "carol-ldap"):
            return None
        return {"sub": "uid=carol,ou=people,dc=example,dc=org", "preferred_username": "carol", "groups": []}


@pytest.fixture
def routes() -> RouteRegistry:
    return RouteRegistry()


@pytest.fixture
def base_path() -> str:
    return "base"


@pytest.fixture(params=[False, True], ids=["one-form", "chooser"])
def chooser(request) -> bool:
    return request.param


@pytest.fixture
def service(tmp_path, monkeypatch, chooser) -> SignInService:
    use_cheap_hasher(monkeypatch)
    monkeypatch.setattr(hooks, "_HOOKS", [])
    users = tmp_path / "users.toml"
    UsersFile(users).save([LocalAccount("alice", hash_password("alice-local"), "alice@example.org")])
    config = ServerConfig(users_file=users, cookie_secrets=("x" * 40,), password_source_chooser=chooser,
                          ldap=LdapConfig(server_uri="ldap://127.0.0.1:1", user_dn_template="uid={username},o=x"),
                          login_branding=LoginBranding(TITLE, None))
    service = SignInService(config, store=MemoryStore())
    service.ldap = Directory()  # type: ignore[assignment]
    return service


def post(fetch, **form):
    return fetch("/base/auth/login", method="POST", body=urlencode(form), headers=SAME_ORIGIN)


@pytest.mark.gen_test
async def test_the_page_shows_the_escaped_title_and_a_chooser_only_when_configured(fetch, chooser):
    page = (await fetch("/base/auth/login")).body.decode()
    assert "<h1>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co</h1>" in page
    assert "<script>" not in page
    assert ("<select id=source name=source>" in page) is chooser and "name=source value=" not in page


@pytest.mark.gen_test
async def test_one_post_without_a_source_signs_in_local_and_directory_users(fetch, chooser):
    for username, password in (("alice", "alice-local"), ("carol", "carol-ldap")):
        done = await post(fetch, username=username, password=password, next="/")
        assert done.code == 303 and done.headers["Location"] == "/base/"


@pytest.mark.gen_test
async def test_every_refusal_is_one_401_answer(fetch, chooser):
    for username in ("alice", "carol", "nobody"):
        refused = await post(fetch, username=username, password="wrong")
        assert refused.code == 401 and b"Wrong username or password." in refused.body


@pytest.mark.gen_test
async def test_a_posted_source_counts_only_with_the_chooser(fetch, chooser):
    answer = await post(fetch, username="carol", password="carol-ldap", source="local")
    assert answer.code == (401 if chooser else 303)
    odd = await post(fetch, username="carol", password="carol-ldap", source="x" * 5000)
    assert odd.code == (401 if chooser else 303) and b"Traceback" not in odd.body
