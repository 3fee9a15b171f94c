"""The User a sign-in gives: groups, roles, avatar, unverified email (identity.user_from_claims)."""

from __future__ import annotations

import base64

import pytest

from stauth_server.core.identity import user_from_claims, user_id
from stauth_server.core.roles import group_claims, parse_roles

ISS = "https://idp.example.org"


def make(claims, **kwargs):
    options = dict(issuer=ISS, subject="sub-1", provider="corp", expires_at=1234.0)
    return user_from_claims(claims, **{**options, **kwargs})


def test_the_user_is_keyed_on_issuer_and_subject():
    user = make({"email": "alice@example.org"})
    assert user.id == user_id(ISS, "sub-1") == f"{ISS}|sub-1"
    assert user.is_logged_in and user.provider == "corp" and user.expires_at == 1234.0


def test_name_falls_back_to_preferred_username():
    assert make({"preferred_username": "alice"}).name == "alice"
    assert make({"name": "Alice", "preferred_username": "alice"}).name == "Alice"


def test_groups_come_from_the_groups_and_roles_claims_by_default():
    user = make({"groups": ["eng"], "roles": ["reader"], "cognito:groups": ["ignored"]})
    assert user.groups == {"eng", "reader"}


def test_groups_come_from_the_claims_the_provider_names():
    claims = {"realm_access": {"roles": ["kc-admin"]}, "groups": ["/staff"], "roles": ["not-a-group-here"]}
    user = make(claims, groups_claims=group_claims("keycloak"))
    assert user.groups == {"kc-admin", "/staff"}


def test_roles_come_from_rules_on_email_group_domain_and_claim():
    rules = parse_roles({
        "admin": ["alice@example.org"],
        "staff": ["domain:example.org"],
        "ops": ["group:ops"],
        "eng": ["claim:dept=eng"],
        "nope": ["group:nobody"],
    })
    user = make({"email": "Alice@Example.org", "email_verified": True, "groups": ["ops"], "dept": "eng"},
                role_rules=rules)
    assert user.roles == {"admin", "staff", "ops", "eng"}
    assert user.has_role("admin") and not user.has_role("nope")


def test_granted_roles_are_added_to_the_matched_ones():
    rules = parse_roles({"ops": ["group:ops"]})
    user = make({"groups": ["ops"]}, role_rules=rules, granted_roles=["beta"])
    assert user.roles == {"ops", "beta"}


def test_an_unverified_email_is_not_the_users_email_and_grants_nothing():
    rules = parse_roles({"admin": ["alice@example.org"], "staff": ["domain:example.org"]})
    user = make({"email": "alice@example.org", "email_verified": False}, role_rules=rules)
    assert user.email is None
    assert user.roles == frozenset()
    assert user.claims["email"] == "alice@example.org"  # still visible as a raw claim


@pytest.mark.parametrize("flag", ["false", "False"])
def test_an_email_marked_unverified_as_a_string_is_not_trusted_either(flag):
    # Some providers (e.g. Amazon Cognito's userinfo) send email_verified as a string.
    rules = parse_roles({"admin": ["alice@example.org"]})
    user = make({"email": "alice@example.org", "email_verified": flag}, role_rules=rules)
    assert user.email is None
    assert not user.has_role("admin")


def test_an_email_without_a_verified_flag_is_kept():
    assert make({"email": "alice@example.org"}).email == "alice@example.org"


def test_a_provider_picture_is_kept():
    assert make({"picture": "https://cdn.example.org/a.png"}).picture == "https://cdn.example.org/a.png"


def _svg(data_url: str) -> str:
    return base64.b64decode(data_url.split(",", 1)[1]).decode()


def test_without_a_picture_the_avatar_shows_the_name_initials():
    user = make({"name": "Ada Lovelace"})
    assert user.picture.startswith("data:image/svg+xml;base64,")
    assert ">AL</text>" in _svg(user.picture)


def test_without_a_name_the_avatar_uses_the_email_then_the_subject():
    assert ">B</text>" in _svg(make({"email": "bob@example.org"}).picture)
    assert ">Z</text>" in _svg(make({}, subject="zed").picture)


def test_an_empty_picture_claim_gets_the_generated_avatar():
    assert make({"name": "Ada", "picture": ""}).picture.startswith("data:image/svg+xml;base64,")


def test_non_string_claims_do_not_become_name_email_or_picture():
    user = make({"name": ["Ada"], "email": 5, "picture": {"url": "x"}})
    assert user.name is None and user.email is None
    assert user.picture.startswith("data:image/svg+xml;base64,")


def test_the_users_claims_are_a_read_only_copy():
    source = {"email": "a@example.org"}
    user = make(source)
    source["email"] = "changed@example.org"
    assert user.claims["email"] == "a@example.org"
    with pytest.raises(TypeError):
        user.claims["email"] = "x"  # type: ignore[index]
