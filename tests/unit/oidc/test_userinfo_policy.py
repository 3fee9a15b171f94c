"""``[auth] userinfo``: "auto" skips the provider's userinfo call when the ID token already
has every claim the app needs; "always" and "never" mean what they say."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_op import DROP
from rp_helpers import REDIRECT_URI, provider_config, sign_in

from stauth_server.core.config import parse_server_config
from stauth_server.core.errors import ConfigError
from stauth_server.core.oidc.client import OIDCClient
from stauth_server.core.oidc.errors import TokenRejected
from stauth_server.core.oidc.userinfo_policy import UserinfoPolicy
from stauth_server.core.roles import parse_roles

SCOPE = "openid email profile"


def policy(mode: str = "auto", scope: str = SCOPE, roles: dict | None = None,
           groups_claims: tuple[str, ...] = ("groups", "roles")) -> UserinfoPolicy:
    rules = [rule for rules in parse_roles(roles).values() for rule in rules]
    return UserinfoPolicy.for_provider(mode, scope, groups_claims, rules)


def client(op, userinfo: UserinfoPolicy) -> OIDCClient:
    return OIDCClient(provider_config(op, userinfo=userinfo), REDIRECT_URI, http=op)


def test_auto_skips_userinfo_when_the_id_token_has_email_and_name(op):
    signin = sign_in(client(op, policy()), op)
    assert op.fetches["userinfo"] == 0
    assert signin.claims["email"] == "alice@example.org" and signin.tokens["access_token"]


def test_auto_calls_userinfo_when_the_id_token_lacks_the_email_the_scope_asks_for(op):
    op.claim_changes["email"] = DROP
    op.userinfo_claims = {"email": "alice@corp.example", "name": "Alice"}
    signin = sign_in(client(op, policy()), op)
    assert op.fetches["userinfo"] == 1 and signin.claims["email"] == "alice@corp.example"


def test_auto_without_the_email_scope_does_not_need_an_email(op):
    op.claim_changes["email"] = DROP
    sign_in(client(op, policy(scope="openid profile")), op)
    assert op.fetches["userinfo"] == 0


def test_auto_calls_userinfo_when_a_group_rule_needs_groups_the_id_token_lacks(op):
    op.userinfo_claims = {"email": "alice@example.org", "groups": ["admins"]}
    signin = sign_in(client(op, policy(roles={"admin": ["group:admins"]})), op)
    assert op.fetches["userinfo"] == 1 and signin.claims["groups"] == ["admins"]


def test_auto_skips_userinfo_when_the_id_token_carries_one_of_the_groups_claims(op):
    op.id_token_claims["roles"] = ["admins"]
    sign_in(client(op, policy(roles={"admin": ["group:admins"]})), op)
    assert op.fetches["userinfo"] == 0


def test_auto_calls_userinfo_for_a_claim_rule_the_id_token_cannot_answer(op):
    op.userinfo_claims = {"dept": "eng"}
    signin = sign_in(client(op, policy(roles={"eng": ["claim:dept=eng"]})), op)
    assert op.fetches["userinfo"] == 1 and signin.claims["dept"] == "eng"


def test_never_skips_userinfo_even_when_claims_are_missing(op):
    op.claim_changes["email"] = DROP
    signin = sign_in(client(op, policy("never")), op)
    assert op.fetches["userinfo"] == 0 and "email" not in signin.claims


def test_always_calls_userinfo_and_still_checks_its_subject(op):
    sign_in(client(op, policy("always")), op)
    assert op.fetches["userinfo"] == 1
    op.userinfo_override = {"sub": "someone-else", "email": "mallory@example.org"}
    with pytest.raises(TokenRejected, match="userinfo sub"):
        sign_in(client(op, policy("always")), op)


def test_a_skipped_userinfo_cannot_be_used_to_smuggle_claims(op):
    op.userinfo_override = {"sub": "someone-else", "email": "mallory@example.org"}
    signin = sign_in(client(op, policy()), op)
    assert signin.claims["email"] == "alice@example.org" and signin.subject == "user-123"


def config(**auth):
    base = {"redirect_uri": "https://app.example.org/oauth2callback", "cookie_secret": "c" * 32,
            "client_id": "abc", "server_metadata_url": "https://op.example.test/.well-known/openid-configuration"}
    return parse_server_config({**base, **auth}, Path("/srv/app"))


def test_the_default_is_auto_and_reads_the_scope_and_roles():
    provider = config(roles={"admin": ["group:admins"]}).providers["default"]
    assert provider.userinfo.mode == "auto"
    assert provider.userinfo.needs == (("email",), ("name",), ("groups", "roles"))


@pytest.mark.parametrize("mode", ["always", "never"])
def test_always_and_never_are_accepted(mode):
    assert config(userinfo=mode).providers["default"].userinfo.mode == mode


@pytest.mark.parametrize("bad", ["sometimes", "", True, ["auto"]])
def test_another_userinfo_value_stops_start_up(bad):
    with pytest.raises(ConfigError, match="userinfo"):
        config(userinfo=bad)
