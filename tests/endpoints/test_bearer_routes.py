"""``Authorization: Bearer`` on routes, over HTTP on both adapters: JWT access tokens from
the (in-process) provider and personal API tokens. A bad token is a 401 with RFC 6750's
challenge, never a 5xx; a bearer request skips the CSRF rule, is identified by its token
alone (never by a cookie it also carries) and never gets a session cookie."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlencode

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "oidc"))

from fake_op import FakeOP  # noqa: E402
from rp_helpers import REDIRECT_URI, SECRET, provider_config  # noqa: E402

from stauth_server.core.api_tokens import issue  # noqa: E402
from stauth_server.core.config import ServerConfig  # noqa: E402
from stauth_server.core.oidc.client import OIDCClient  # noqa: E402
from stauth_server.core.roles import parse_roles  # noqa: E402
from stauth_server.core.signin import SignInService  # noqa: E402
from stauth_server.core.sources.local import LocalAccount, UsersFile  # noqa: E402
from stauth_server.core.store.memory import MemoryStore  # noqa: E402
from stauth_server.web.routes import RouteRegistry  # noqa: E402

AUDIENCE = "https://api.example.test"
CHALLENGE = 'Bearer error="invalid_token"'


@pytest.fixture
def routes() -> RouteRegistry:
    registry = RouteRegistry()

    def me(request):
        user = request.user
        return {"id": user.id or None, "auth_method": user.auth_method, "roles": sorted(user.roles)}

    registry.add("/api/me", me, auth="required")
    registry.add("/api/change", me, methods=["POST"], auth="required")
    registry.add("/api/robots", me, roles=["robot"])
    registry.add("/api/public", me)
    registry.add("/api/webhook", me, methods=["POST"], csrf=False)
    return registry


@pytest.fixture
def base_path() -> str:
    return "base"


@pytest.fixture
def op() -> FakeOP:
    return FakeOP()


@pytest.fixture
def users(tmp_path) -> UsersFile:
    users = UsersFile(tmp_path / "users.toml")
    users.save([LocalAccount("alice", "$argon2id$unused", "alice@example.org", "Alice", ("editor",))])
    return users


@pytest.fixture
def local_only() -> bool:
    """Sign-in configured with ``[auth.local]`` alone (a test parametrizes it to True)."""
    return False


@pytest.fixture
def service(local_only, op, users) -> SignInService:
    if local_only:
        config = ServerConfig(cookie_secrets=(SECRET,), users_file=users.path)
        return SignInService(config, store=MemoryStore(), clients={})
    provider = provider_config(op, api_audience=AUDIENCE)
    config = ServerConfig(redirect_uri=REDIRECT_URI, cookie_secrets=(SECRET,), users_file=users.path,
                          providers=MappingProxyType({"op": provider}),
                          roles=MappingProxyType(parse_roles({"robot": ["group:robots"]})))
    return SignInService(config, store=MemoryStore(), clients={"op": OIDCClient(provider, REDIRECT_URI, http=op)})


def access_token(op: FakeOP, **changes) -> str:
    now = int(time.time())
    claims = {"iss": op.issuer, "sub": "machine-client", "aud": AUDIENCE, "iat": now, "exp": now + 600,
              "groups": ["robots"]}
    claims.update(changes)
    return op.sign(claims, {"kid": op.active_kid, "typ": "at+jwt"})


def personal_token(users: UsersFile) -> str:
    token, record = issue("alice", "ci", 3600)
    users.save(users.accounts().values(), [*users.api_tokens().values(), record])
    return token


def bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json", **headers}


def assert_invalid_token(response) -> None:
    assert response.code == 401
    assert response.headers["WWW-Authenticate"] == CHALLENGE
    assert response.headers["Content-Type"].startswith("application/json")
    assert json.loads(response.body) == {"error": "Invalid bearer token"}


@pytest.mark.gen_test
async def test_a_valid_access_token_is_the_caller_and_gets_no_session(fetch, op):
    response = await fetch("/base/api/me", headers=bearer(access_token(op)))
    assert response.code == 200
    assert json.loads(response.body) == {"id": f"{op.issuer}|machine-client", "auth_method": "bearer-jwt",
                                         "roles": ["robot"]}
    assert response.headers.get_list("Set-Cookie") == []


@pytest.mark.gen_test
async def test_roles_come_from_the_tokens_claims(fetch, op, users):
    assert (await fetch("/base/api/robots", headers=bearer(access_token(op)))).code == 200
    assert (await fetch("/base/api/robots", headers=bearer(personal_token(users)))).code == 403


@pytest.mark.gen_test
@pytest.mark.parametrize("changes", [
    {"aud": "rp-client"},
    {"exp": int(time.time()) - 3600},
    {"iss": "https://evil.example"},
])
async def test_a_token_for_another_api_expired_or_foreign_is_401_with_the_challenge(fetch, op, changes):
    assert_invalid_token(await fetch("/base/api/me", headers=bearer(access_token(op, **changes))))


@pytest.mark.gen_test
@pytest.mark.parametrize("signing", ["attacker-key", "none", "hs256-public-pem"])
async def test_a_forged_token_is_401(fetch, op, signing):
    op.signing = signing
    assert_invalid_token(await fetch("/base/api/me", headers=bearer(access_token(op))))


@pytest.mark.gen_test
@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer a b", "bearer \u00e9t\u00e9", "Bearer sat_nope"])
async def test_a_malformed_bearer_header_is_401_not_5xx(fetch, header):
    response = await fetch("/base/api/me", headers={"Authorization": header.encode("utf-8").decode("latin-1")})
    assert_invalid_token(response)


@pytest.mark.gen_test
async def test_a_bad_token_on_a_public_route_is_401_too(fetch):
    assert_invalid_token(await fetch("/base/api/public", headers=bearer("sat_wrong")))
    visitor = await fetch("/base/api/public")
    assert visitor.code == 200 and json.loads(visitor.body)["auth_method"] is None


@pytest.mark.gen_test
async def test_a_bearer_post_needs_no_origin_or_xsrf_token(fetch, op):
    response = await fetch("/base/api/change", method="POST", body=b"{}", headers=bearer(access_token(op)))
    assert response.code == 200


@pytest.mark.gen_test
async def test_a_cross_site_bearer_post_with_a_cookie_is_judged_by_the_token_alone(fetch, op):
    cross_site = {"Origin": "http://evil.example", "Cookie": "stauth_session=whatever"}
    good = await fetch("/base/api/change", method="POST", body=b"", headers=bearer(access_token(op), **cross_site))
    assert good.code == 200 and json.loads(good.body)["auth_method"] == "bearer-jwt"
    bad = await fetch("/base/api/change", method="POST", body=b"", headers=bearer("sat_forged", **cross_site))
    assert_invalid_token(bad)


@pytest.mark.gen_test
async def test_a_session_cookie_beside_a_bad_token_does_not_sign_the_request_in(fetch, op):
    login = await fetch("/base/auth/login?provider=op")
    jar = {h.split("=", 1)[0]: h.split("=", 1)[1].split(";", 1)[0] for h in login.headers.get_list("Set-Cookie")}
    done = await fetch(f"/base/oauth2callback?{urlencode(op.authorize(login.headers['Location']))}",
                       headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())})
    session = "; ".join(h.split(";", 1)[0] for h in done.headers.get_list("Set-Cookie")
                        if h.startswith("stauth_session") and "Max-Age=0" not in h)
    as_browser = await fetch("/base/api/me", headers={"Cookie": session, "Accept": "application/json"})
    assert json.loads(as_browser.body)["auth_method"] == "session"
    assert_invalid_token(await fetch("/base/api/me", headers=bearer("sat_forged", Cookie=session)))
    as_token = await fetch("/base/api/me", headers=bearer(access_token(op), Cookie=session))
    assert json.loads(as_token.body)["id"] == f"{op.issuer}|machine-client"


@pytest.mark.gen_test
async def test_a_personal_token_works_until_revoked(fetch, users):
    token = personal_token(users)
    response = await fetch("/base/api/me", headers=bearer(token))
    assert json.loads(response.body) == {"id": "local|alice", "auth_method": "api-token", "roles": ["editor"]}
    users.save(users.accounts().values(), [])
    assert_invalid_token(await fetch("/base/api/me", headers=bearer(token)))


@pytest.mark.gen_test
@pytest.mark.parametrize("local_only", [True])
async def test_a_personal_token_works_when_only_local_accounts_are_configured(fetch, users, op, local_only):
    response = await fetch("/base/api/me", headers=bearer(personal_token(users)))
    assert response.code == 200 and json.loads(response.body)["id"] == "local|alice"
    assert_invalid_token(await fetch("/base/api/me", headers=bearer(access_token(op))))


@pytest.mark.gen_test
async def test_auth_endpoints_ignore_bearer_tokens(fetch, op):
    response = await fetch("/base/auth/userinfo", headers=bearer(access_token(op)))
    assert response.code == 401 and "WWW-Authenticate" not in response.headers


@pytest.mark.gen_test
async def test_a_route_without_csrf_ignores_bearer_tokens(fetch):
    response = await fetch("/base/api/webhook", method="POST", body=b"", headers=bearer("sat_whatever"))
    assert response.code == 200 and json.loads(response.body)["id"] is None


@pytest.mark.gen_test
async def test_an_unreachable_provider_is_503_not_500(fetch, op):
    token = access_token(op)
    op.unreachable = True
    response = await fetch("/base/api/me", headers=bearer(token))
    assert response.code == 503 and response.headers["Retry-After"] == "5"


@pytest.mark.gen_test
async def test_a_refused_bearer_token_is_one_audit_event_without_the_token(fetch, caplog):
    import json
    import logging

    with caplog.at_level(logging.INFO, logger="stauth.audit"):
        assert_invalid_token(await fetch("/base/api/me", headers=bearer("sat_not-a-real-token-123")))
    events = [json.loads(r.getMessage()) for r in caplog.records if r.name == "stauth.audit"]
    rejected = [e for e in events if e["event"] == "bearer_rejected"]
    assert len(rejected) == 1, events
    assert rejected[0]["path"] == "/base/api/me" and rejected[0]["reason"]
    assert "sat_not-a-real-token-123" not in caplog.text


@pytest.mark.gen_test
async def test_a_request_without_credentials_is_told_the_bearer_scheme(fetch):
    """RFC 6750 3: the 401 names the scheme (no error code: no token was presented)."""
    response = await fetch("/base/api/me", headers={"Accept": "application/json"})
    assert response.code == 401
    assert response.headers.get_list("WWW-Authenticate") == ["Bearer"]
