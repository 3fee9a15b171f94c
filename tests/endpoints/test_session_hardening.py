"""Session hardening over HTTP: framing, referrer and caching headers on every auth
endpoint; a session store that goes away (503, nothing cleared, nothing hangs, the session
intact afterwards); a proxy user an ``on_login`` hook refuses."""

from __future__ import annotations

import ipaddress
import json
import sys
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlencode

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "oidc"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

from cookie_jar import cookie_header, set_cookies  # noqa: E402
from cheap_argon2 import use_cheap_hasher  # noqa: E402
from fake_op import FakeOP  # noqa: E402
from rp_helpers import REDIRECT_URI, SECRET, provider_config  # noqa: E402

import stauth_server as sa  # noqa: E402
from stauth_server.core import hooks  # noqa: E402
from stauth_server.web.endpoints.signin import security_headers  # noqa: E402
from stauth_server.web.errors import STORE_DOWN  # noqa: E402
from stauth_server.core.config import ServerConfig  # noqa: E402
from stauth_server.core.store import StoreUnavailable  # noqa: E402
from stauth_server.core.store.memory import MemoryStore  # noqa: E402
from stauth_server.core.oidc.client import OIDCClient  # noqa: E402
from stauth_server.web.routes import RouteRegistry  # noqa: E402
from stauth_server.core.signin import SignInService  # noqa: E402
from stauth_server.core.sources.local import LocalAccount, UsersFile, hash_password  # noqa: E402
from stauth_server.core.sources.proxy import ProxyConfig  # noqa: E402

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}
DENY_FRAMING = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'self'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class SwitchableStore(MemoryStore):
    """A memory store an operator can 'unplug': every call then raises StoreUnavailable."""

    down = False

    def _check(self) -> None:
        if self.down:
            raise StoreUnavailable("session store (test): unplugged")

    def create(self, *args):
        self._check()
        return super().create(*args)

    def load(self, *args):
        self._check()
        return super().load(*args)

    def replace(self, *args):
        self._check()
        return super().replace(*args)

    def touch(self, *args):
        self._check()
        return super().touch(*args)

    def delete(self, *args):
        self._check()
        return super().delete(*args)

    def claim_once(self, *args):
        self._check()
        return super().claim_once(*args)

    def sweep(self, *args):
        self._check()
        return super().sweep(*args)

    def publish(self, *args):
        self._check()
        return super().publish(*args)


@pytest.fixture(autouse=True)
def no_hooks(monkeypatch):
    monkeypatch.setattr(hooks, "_HOOKS", [])


@pytest.fixture
def routes() -> RouteRegistry:
    registry = RouteRegistry()
    registry.add("/api/me", lambda request: {"email": request.user.email}, auth="required")
    registry.add("/api/public", lambda request: {"ok": True})
    return registry


@pytest.fixture
def op() -> FakeOP:
    return FakeOP()


@pytest.fixture
def users_path(tmp_path, monkeypatch):
    use_cheap_hasher(monkeypatch)
    path = tmp_path / "users.toml"
    UsersFile(path).save([LocalAccount("alice", hash_password("alice-password"), "alice@example.org", "Alice")])
    return path


@pytest.fixture
def frame_ancestors() -> tuple[str, ...]:
    return ("'self'",)


@pytest.fixture
def store() -> SwitchableStore:
    return SwitchableStore()


@pytest.fixture
def service(op, store, users_path, frame_ancestors) -> SignInService:
    config = ServerConfig(
        redirect_uri=REDIRECT_URI, cookie_secrets=(SECRET,), providers=MappingProxyType({"op": provider_config(op)}),
        users_file=users_path, proxy=ProxyConfig(trusted=(ipaddress.ip_network("127.0.0.1/32"),)),
        frame_ancestors=frame_ancestors,
    )
    return SignInService(config, store=store, clients={"op": OIDCClient(config.providers["op"], REDIRECT_URI, http=op)})


@pytest.fixture
def base_path() -> str:
    return "base"


def session_cookies_touched(response) -> list[str]:
    """Session cookies a response sets or clears."""
    return [name for name in set_cookies(response) if name.startswith(("stauth_session", "__Host-stauth_session"))]


async def password_sign_in(fetch) -> dict[str, str]:
    body = urlencode({"username": "alice", "password": "alice-password", "next": "/"})
    done = await fetch("/base/auth/login", method="POST", body=body, headers=SAME_ORIGIN)
    assert done.code == 303, done.body
    return {k: v for k, v in set_cookies(done).items() if k.startswith("stauth_session") and v}


def assert_denies_framing(response) -> None:
    for name, value in DENY_FRAMING.items():
        assert response.headers.get(name) == value, (name, response.code, response.headers.get(name))


# --- framing, referrers, caching ---------------------------------------------------------

ENDPOINTS = {
    "login page": ("GET", "/base/auth/login", {}, None, 200),
    "login with a provider": ("GET", "/base/auth/login?provider=op", {}, None, 302),
    "unknown provider page": ("GET", "/base/auth/login?provider=nope", {}, None, 400),
    "wrong password page": ("POST", "/base/auth/login", SAME_ORIGIN,
                            urlencode({"username": "alice", "password": "wrong"}), 401),
    "cross-site login post": ("POST", "/base/auth/login", {"Sec-Fetch-Site": "cross-site"},
                              urlencode({"username": "alice", "password": "wrong"}), 403),
    "logout confirmation": ("GET", "/base/auth/logout", {"Sec-Fetch-Site": "cross-site"}, None, 200),
    "logout": ("GET", "/base/auth/logout", SAME_ORIGIN, None, 302),
    "callback error page": ("GET", "/base/oauth2callback?code=x&state=y", {}, None, 400),
    "provider error page": ("GET", "/base/oauth2callback?error=access_denied&state=y", {}, None, 400),
    "userinfo": ("GET", "/base/auth/userinfo", {}, None, 401),
}


@pytest.mark.gen_test
@pytest.mark.parametrize("case", ENDPOINTS, ids=list(ENDPOINTS))
async def test_every_auth_endpoint_forbids_framing_referrers_and_caching(fetch, case):
    method, path, headers, body, code = ENDPOINTS[case]
    response = await fetch(path, method=method, headers=headers, body=body)
    assert response.code == code, response.body
    assert_denies_framing(response)


@pytest.mark.gen_test
async def test_the_login_page_itself_is_served_with_the_headers(fetch):
    page = await fetch("/base/auth/login", headers=HTML)
    assert page.code == 200 and b"<form" in page.body
    assert_denies_framing(page)


@pytest.mark.gen_test
@pytest.mark.parametrize("frame_ancestors", [("'self'", "https://portal.example.org")])
async def test_configured_frame_ancestors_are_listed_and_x_frame_options_is_dropped(fetch, frame_ancestors):
    for path in ("/base/auth/login", "/base/auth/userinfo", "/base/oauth2callback?code=x&state=y"):
        response = await fetch(path)
        assert response.headers["Content-Security-Policy"] == "frame-ancestors 'self' https://portal.example.org"
        assert "X-Frame-Options" not in response.headers
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"


def test_frame_ancestors_none_also_sends_x_frame_options_deny():
    headers = security_headers(("'none'",))
    assert headers["Content-Security-Policy"] == "frame-ancestors 'none'" and headers["X-Frame-Options"] == "DENY"


# --- the session store goes away -------------------------------------------------------

@pytest.mark.gen_test
async def test_store_down_userinfo_is_a_503_json_and_the_session_cookie_is_kept(fetch, store):
    session = await password_sign_in(fetch)
    store.down = True
    response = await fetch("/base/auth/userinfo", headers={"Cookie": cookie_header(session), **JSON})
    assert response.code == 503 and response.headers["Retry-After"]
    assert response.headers["Content-Type"].startswith("application/json")
    assert "unavailable" in json.loads(response.body)["error"].lower()
    assert session_cookies_touched(response) == []
    assert_denies_framing(response)


@pytest.mark.gen_test
async def test_store_down_password_sign_in_is_a_503_page_and_sets_or_clears_no_session(fetch, store):
    old = await password_sign_in(fetch)
    store.down = True
    body = urlencode({"username": "alice", "password": "alice-password", "next": "/"})
    response = await fetch("/base/auth/login", method="POST", body=body,
                           headers={**SAME_ORIGIN, **HTML, "Cookie": cookie_header(old)})
    assert response.code == 503 and STORE_DOWN.encode() in response.body
    assert b"Traceback" not in response.body
    assert session_cookies_touched(response) == []
    assert_denies_framing(response)


@pytest.mark.gen_test
async def test_store_down_callback_is_a_503_page_and_sets_or_clears_no_session(fetch, op, store):
    old = await password_sign_in(fetch)
    login = await fetch("/base/auth/login?provider=op")
    assert login.code == 302
    query = urlencode(op.authorize(login.headers["Location"]))
    store.down = True
    cookies = {**old, **set_cookies(login)}
    response = await fetch(f"/base/oauth2callback?{query}", headers={"Cookie": cookie_header(cookies), **HTML})
    assert response.code == 503 and STORE_DOWN.encode() in response.body
    assert session_cookies_touched(response) == []
    assert_denies_framing(response)


@pytest.mark.gen_test
async def test_store_down_a_route_needing_identity_is_503_and_a_visitors_public_route_still_answers(fetch, store):
    session = await password_sign_in(fetch)
    store.down = True
    me = await fetch("/base/api/me", headers={"Cookie": cookie_header(session), **JSON})
    assert me.code == 503 and me.headers["Retry-After"]
    assert session_cookies_touched(me) == []
    public = await fetch("/base/api/public", headers=JSON)
    assert public.code == 200 and json.loads(public.body) == {"ok": True}
    page = await fetch("/base/auth/login", headers=HTML)
    assert page.code == 200 and b"<form" in page.body


@pytest.mark.gen_test
async def test_store_down_logout_clears_the_browsers_cookies_and_says_503(fetch, store):
    session = await password_sign_in(fetch)
    store.down = True
    response = await fetch("/base/auth/logout", headers={"Cookie": cookie_header(session), **SAME_ORIGIN, **HTML})
    assert response.code == 503 and STORE_DOWN.encode() in response.body
    cleared = set_cookies(response)
    assert set(session) <= set(cleared) and all(cleared[name] == "" for name in session)


@pytest.mark.gen_test
async def test_when_the_store_returns_the_session_is_intact(fetch, store):
    session = await password_sign_in(fetch)
    store.down = True
    assert (await fetch("/base/auth/userinfo", headers={"Cookie": cookie_header(session)})).code == 503
    store.down = False
    back = await fetch("/base/auth/userinfo", headers={"Cookie": cookie_header(session)})
    assert back.code == 200 and json.loads(back.body)["email"] == "alice@example.org"


# --- a proxy user an on_login hook refuses ----------------------------------------------

@pytest.mark.gen_test
async def test_a_proxy_user_refused_by_an_on_login_hook_gets_403_from_userinfo(fetch):
    @sa.on_login
    def gate(user, source):
        if user.id == "proxy|mallory":
            raise sa.Forbidden("Mallory may not use this app.")
        return {"roles": ["beta"]}

    refused = await fetch("/base/auth/userinfo", headers={"X-Forwarded-User": "mallory"})
    assert refused.code == 403 and json.loads(refused.body) == {"error": "Mallory may not use this app."}
    assert_denies_framing(refused)
    again = await fetch("/base/auth/userinfo", headers={"X-Forwarded-User": "mallory"})
    assert again.code == 403
    allowed = await fetch("/base/auth/userinfo", headers={"X-Forwarded-User": "alice"})
    assert allowed.code == 200 and "beta" in json.loads(allowed.body)["roles"]
