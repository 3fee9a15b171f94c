"""Bearer tokens on routes, in the core: JWT access tokens from a provider with
``api_audience`` and personal API tokens of local accounts. Each attacker's probe (forged,
expired, foreign, confused algorithm, revoked...) is refused with ``InvalidBearerToken``."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from types import MappingProxyType

import jwt
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "oidc"))

from fake_op import ATTACKER_KEY, KEYS, FakeOP, hs256_token, public_pem  # noqa: E402
from rp_helpers import REDIRECT_URI, SECRET, provider_config  # noqa: E402

from stauth_server.core import hooks  # noqa: E402
from stauth_server.core.api_tokens import TOKEN_PREFIX, find, issue, parse_tokens, render_tokens, token_hash  # noqa: E402
from stauth_server.core.bearer import (  # noqa: E402
    BearerAuthenticator, BearerRefused, BearerUnavailable, InvalidBearerToken,
)
from stauth_server.core.config import ServerConfig, parse_server_config  # noqa: E402
from stauth_server.core.errors import ConfigError, Forbidden  # noqa: E402
from stauth_server.core.oidc.client import OIDCClient  # noqa: E402
from stauth_server.core.roles import parse_roles  # noqa: E402
from stauth_server.core.signin import SignInService  # noqa: E402
from stauth_server.core.sources.local import LocalAccount, UsersFile  # noqa: E402
from stauth_server.core.store.memory import MemoryStore  # noqa: E402

AUDIENCE = "https://api.example.test"


@pytest.fixture
def op() -> FakeOP:
    return FakeOP()


@pytest.fixture
def users(tmp_path) -> UsersFile:
    users = UsersFile(tmp_path / "users.toml")
    # Tokens never touch passwords: a placeholder hash keeps these tests fast.
    users.save([LocalAccount("alice", "$argon2id$unused", "alice@example.org", "Alice", ("editor",)),
                LocalAccount("mallory", "$argon2id$unused", disabled=True)])
    return users


@pytest.fixture
def service(op, users) -> SignInService:
    provider = provider_config(op, api_audience=AUDIENCE, groups_claims=("groups",))
    config = ServerConfig(redirect_uri=REDIRECT_URI, cookie_secrets=(SECRET,), users_file=users.path,
                          providers=MappingProxyType({"op": provider}),
                          roles=MappingProxyType(parse_roles({"robot": ["group:robots"], "reader": ["claim:scope=api:read"]})))
    return SignInService(config, store=MemoryStore(), clients={"op": OIDCClient(provider, REDIRECT_URI, http=op)})


@pytest.fixture
def bearer(service) -> BearerAuthenticator:
    return BearerAuthenticator(service)


def access_token(op: FakeOP, **changes) -> str:
    now = int(time.time())
    claims = {"iss": op.issuer, "sub": "machine-client", "aud": AUDIENCE, "iat": now, "exp": now + 600,
              "client_id": "machine-client", "scope": "api:read", "groups": ["robots"], "jti": str(now)}
    claims.update(changes)
    return op.sign({k: v for k, v in claims.items() if v is not None}, {"kid": op.active_kid, "typ": "at+jwt"})


# --- JWT access tokens ---------------------------------------------------------------


def test_a_valid_access_token_is_its_subject_with_roles_mapped_like_a_sign_in(bearer, op):
    user = bearer.authenticate(access_token(op))
    assert user.id == f"{op.issuer}|machine-client"
    assert user.provider == "op" and user.auth_method == "bearer-jwt"
    assert user.groups == {"robots"} and user.roles == {"robot", "reader"}


def test_the_user_is_the_one_a_browser_sign_in_with_the_same_claims_gives(bearer, service, op):
    token = access_token(op)
    claims = jwt.decode(token, options={"verify_signature": False})
    same = service.user_for(claims, op.issuer, "machine-client", "op", claims["exp"], ())
    user = bearer.authenticate(token)
    assert (user.roles, user.groups, user.id, user.email) == (same.roles, same.groups, same.id, same.email)


@pytest.mark.parametrize("changes, rule", [
    ({"aud": "rp-client"}, "audience"),
    ({"aud": ["https://other.example.test"]}, "audience"),
    ({"aud": None}, "invalid"),
    ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expired"),
    ({"exp": None}, "invalid"),
    ({"nbf": int(time.time()) + 3600}, "not valid yet"),
    ({"iss": "https://op.example.test/"}, "issuer"),
    ({"sub": ""}, "sub"),
])
def test_a_token_breaking_one_rule_is_refused(bearer, op, changes, rule):
    with pytest.raises(InvalidBearerToken) as refused:
        bearer.authenticate(access_token(op, **changes))
    assert rule in str(refused.value)


@pytest.mark.parametrize("signing", ["attacker-key", "none", "hs256-public-pem", "flip-signature"])
def test_a_forged_signature_is_refused(bearer, op, signing):
    op.signing = signing
    with pytest.raises(InvalidBearerToken):
        bearer.authenticate(access_token(op))


def test_hs256_signed_with_the_providers_public_key_is_refused(bearer, op):
    now = int(time.time())
    claims = {"iss": op.issuer, "sub": "x", "aud": AUDIENCE, "exp": now + 600}
    token = hs256_token({"alg": "HS256", "typ": "at+jwt", "kid": "key-1"}, claims, public_pem(KEYS["key-1"]))
    with pytest.raises(InvalidBearerToken, match="algorithm"):
        bearer.authenticate(token)


def test_a_token_from_another_issuer_is_refused_without_asking_it_anything(bearer, op):
    now = int(time.time())
    foreign = jwt.encode({"iss": "https://evil.example", "sub": "x", "aud": AUDIENCE, "exp": now + 600},
                         ATTACKER_KEY, algorithm="RS256", headers={"kid": "key-1"})
    with pytest.raises(InvalidBearerToken, match="issuer"):
        bearer.authenticate(foreign)
    assert op.fetches["jwks"] == 0


def test_a_rotated_key_is_fetched_once_and_accepted(bearer, op):
    bearer.authenticate(access_token(op))
    op.rotate_to("key-2")
    user = bearer.authenticate(access_token(op))
    assert user.is_logged_in and op.fetches["jwks"] == 2


def test_an_unreachable_provider_is_unavailable_not_invalid(bearer, op):
    token = access_token(op)
    op.unreachable = True
    with pytest.raises(BearerUnavailable):
        bearer.authenticate(token)


def test_a_provider_without_api_audience_accepts_no_access_token(op, users):
    provider = provider_config(op)
    config = ServerConfig(redirect_uri=REDIRECT_URI, cookie_secrets=(SECRET,), providers=MappingProxyType({"op": provider}))
    service = SignInService(config, store=MemoryStore(), clients={"op": OIDCClient(provider, REDIRECT_URI, http=op)})
    with pytest.raises(InvalidBearerToken):
        BearerAuthenticator(service).authenticate(access_token(op, aud="rp-client"))


@pytest.mark.parametrize("token", ["", "a.b", "not-a-token", "x.y.z", "a" * 20000, "eyJhbGciOiJub25lIn0.e30."])
def test_garbage_is_invalid(bearer, token):
    with pytest.raises(InvalidBearerToken):
        bearer.authenticate(token)


# --- personal API tokens -------------------------------------------------------------


def store_token(users: UsersFile, user: str = "alice", lifetime: int | None = 3600, now: float | None = None) -> str:
    token, record = issue(user, "ci", lifetime, now=now)
    users.save(users.accounts().values(), [*users.api_tokens().values(), record])
    return token


def test_a_personal_token_is_its_account_with_the_accounts_roles(bearer, users):
    user = bearer.authenticate(store_token(users))
    assert user.id == "local|alice" and user.provider == "local" and user.auth_method == "api-token"
    assert user.email == "alice@example.org" and user.roles == {"editor"}


def test_the_users_file_holds_only_the_hash(users):
    token = store_token(users)
    text = users.path.read_text()
    assert token.startswith(TOKEN_PREFIX) and token not in text and token_hash(token) in text


def test_a_revoked_token_is_refused(bearer, users):
    token = store_token(users)
    users.save(users.accounts().values(), [])
    with pytest.raises(InvalidBearerToken, match="unknown or revoked"):
        bearer.authenticate(token)


def test_an_expired_personal_token_is_refused(bearer, users):
    token = store_token(users, lifetime=60, now=time.time() - 120)
    with pytest.raises(InvalidBearerToken, match="expired"):
        bearer.authenticate(token)


def test_a_disabled_account_s_token_is_refused(bearer, users):
    with pytest.raises(InvalidBearerToken, match="disabled"):
        bearer.authenticate(store_token(users, user="mallory"))


def test_a_guessed_token_with_the_prefix_is_refused(bearer, users):
    store_token(users)
    with pytest.raises(InvalidBearerToken):
        bearer.authenticate(TOKEN_PREFIX + "A" * 43)


def test_saving_accounts_keeps_the_tokens(users):
    token = store_token(users)
    users.save(users.accounts().values())  # what `users passwd` does
    assert find(users.api_tokens().values(), token) is not None


def test_tokens_round_trip_through_the_file_format():
    _, record = issue("alice", "nightly", None, now=1_700_000_000)
    import tomllib

    assert parse_tokens(tomllib.loads(render_tokens([record]))["api_tokens"], "f") == {record.id: record}


def test_a_token_named_with_a_del_character_keeps_the_file_readable():
    _, record = issue("al\x7fice", "night\x7fly \"ci\" \\ \u00e9", None, now=1_700_000_000)
    import tomllib

    text = render_tokens([record])
    assert "\x7f" not in text  # TOML refuses a raw DEL in a string
    assert parse_tokens(tomllib.loads(text)["api_tokens"], "f") == {record.id: record}


# --- hooks ---------------------------------------------------------------------------


@pytest.fixture
def hook():
    installed = []

    def install(func):
        hooks._HOOKS.append(func)
        installed.append(func)

    yield install
    for func in installed:
        hooks._HOOKS.remove(func)


def test_an_on_login_hook_that_refuses_refuses_the_token(bearer, op, hook):
    def refuse(user, source):
        raise Forbidden("robots are not welcome")

    hook(refuse)
    with pytest.raises(BearerRefused, match="robots are not welcome"):
        bearer.authenticate(access_token(op))


def test_an_on_login_hook_grants_roles_and_runs_once_per_identity(bearer, users, hook):
    calls = []
    hook(lambda user, source: calls.append(source) or {"roles": ["beta"]})
    token = store_token(users)
    assert bearer.authenticate(token).roles == {"editor", "beta"}
    assert bearer.authenticate(token).roles == {"editor", "beta"}
    assert calls == ["local"]


# --- config --------------------------------------------------------------------------


def test_api_audience_is_read_from_the_provider_table(tmp_path):
    config = parse_server_config({"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": SECRET,
                                  "op": {"client_id": "a", "server_metadata_url": "https://op.example/.well-known/openid-configuration",
                                         "api_audience": AUDIENCE}}, tmp_path)
    assert config.providers["op"].api_audience == AUDIENCE


@pytest.mark.parametrize("table", [
    {"client_id": "a", "provider": "github", "api_audience": AUDIENCE},
    {"client_id": "a", "server_metadata_url": "https://op.example/.well-known/openid-configuration", "api_audience": 3},
])
def test_a_wrong_api_audience_stops_start_up(tmp_path, table):
    with pytest.raises(ConfigError, match="api_audience"):
        parse_server_config({"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": SECRET,
                             "op": table}, tmp_path)
