"""[auth.roles] rules and group claims (stauth_server.core.roles)."""

from __future__ import annotations

import pytest

from stauth_server.core.errors import ConfigError
from stauth_server.core.roles import (
    DEFAULT_GROUP_CLAIMS,
    RoleRule,
    claim_at,
    group_claims,
    groups_from,
    parse_roles,
    parse_rule,
    roles_for,
)

NO_GROUPS: frozenset[str] = frozenset()


# --- claim_at -------------------------------------------------------------------------

def test_claim_at_reaches_into_nested_claims_with_dots():
    claims = {"realm_access": {"roles": ["admin"]}}
    assert claim_at(claims, "realm_access.roles") == ["admin"]


def test_claim_at_prefers_a_literal_key_containing_a_dot():
    claims = {"a.b": "literal", "a": {"b": "nested"}}
    assert claim_at(claims, "a.b") == "literal"


@pytest.mark.parametrize("dotted", ["missing", "realm_access.missing", "realm_access.roles.deeper", "x.y"])
def test_claim_at_is_none_for_a_path_that_does_not_exist(dotted):
    assert claim_at({"realm_access": {"roles": ["admin"]}, "x": "not a table"}, dotted) is None


# --- group_claims / groups_from -------------------------------------------------------

def test_no_groups_claim_setting_means_groups_and_roles():
    assert group_claims(None) == DEFAULT_GROUP_CLAIMS == ("groups", "roles")


@pytest.mark.parametrize("preset, expected", [
    ("keycloak", ("realm_access.roles", "groups")),
    ("entra", ("roles", "groups")),
    ("microsoft", ("roles", "groups")),
    ("cognito", ("cognito:groups",)),
    ("groups", ("groups",)),
    ("roles", ("roles",)),
])
def test_a_preset_name_means_the_claims_that_provider_uses(preset, expected):
    assert group_claims(preset) == expected


def test_any_other_string_is_one_claim_name():
    assert group_claims("https://example.org/groups") == ("https://example.org/groups",)


def test_a_list_setting_is_those_claim_names_in_order():
    assert group_claims(["teams", "departments"]) == ("teams", "departments")


def test_groups_come_from_every_named_claim_list_or_string():
    claims = {"groups": ["eng", "ops"], "roles": "reader", "realm_access": {"roles": ["kc-admin"]}}
    assert groups_from(claims, ("groups", "roles", "realm_access.roles")) == {"eng", "ops", "reader", "kc-admin"}


def test_numeric_group_ids_become_strings_and_other_items_are_dropped():
    claims = {"groups": [42, "eng", {"nested": "x"}, None, 1.5]}
    assert groups_from(claims, ("groups",)) == {"42", "eng"}


def test_claims_not_named_give_no_groups():
    assert groups_from({"groups": ["eng"]}, ("roles",)) == frozenset()


# --- parse_rule / parse_roles ---------------------------------------------------------

def test_an_email_entry_is_lowercased():
    assert parse_rule("admin", " Alice@Example.ORG ") == RoleRule("email", "alice@example.org")


def test_a_group_entry_keeps_its_case():
    assert parse_rule("admin", "group:Admins") == RoleRule("group", "Admins")


def test_a_domain_entry_is_lowercased():
    assert parse_rule("staff", "domain:Example.ORG") == RoleRule("domain", "example.org")


def test_a_claim_entry_splits_name_and_value_at_the_first_equals():
    assert parse_rule("eng", "claim:dept=eng=core") == RoleRule("claim", "eng=core", "dept")


def test_a_claim_name_may_itself_contain_a_colon():
    assert parse_rule("x", "claim:cognito:groups=admins") == RoleRule("claim", "admins", "cognito:groups")


@pytest.mark.parametrize("entry, fragment", [
    ("", "expected strings"),
    ("   ", "expected strings"),
    (3, "expected strings"),
    (None, "expected strings"),
    ("group:", "names nothing"),
    ("domain:", "names nothing"),
    ("claim:", "names nothing"),
    ("claim:dept", "claim:NAME=VALUE"),
    ("claim:=eng", "claim:NAME=VALUE"),
    ("alice", "neither an email"),
])
def test_a_bad_entry_is_a_config_error_naming_the_role(entry, fragment):
    with pytest.raises(ConfigError, match=r"\[auth\.roles\] admin") as caught:
        parse_rule("admin", entry)
    assert fragment in str(caught.value)


def test_parse_roles_accepts_a_single_string_as_one_entry():
    assert parse_roles({"admin": "group:admins"}) == {"admin": (RoleRule("group", "admins"),)}


def test_parse_roles_of_nothing_is_no_rules():
    assert parse_roles(None) == {}


def test_parse_roles_keeps_every_entry_of_every_role():
    rules = parse_roles({"admin": ["alice@example.org", "group:admins"], "staff": ["domain:example.org"]})
    assert rules == {
        "admin": (RoleRule("email", "alice@example.org"), RoleRule("group", "admins")),
        "staff": (RoleRule("domain", "example.org"),),
    }


@pytest.mark.parametrize("table", [["admin"], "admin", 3])
def test_roles_that_are_not_a_table_are_a_config_error(table):
    with pytest.raises(ConfigError, match=r"\[auth\.roles\]"):
        parse_roles(table)


@pytest.mark.parametrize("who", [3, {"a": "b"}, None])
def test_a_role_whose_value_is_not_a_list_is_a_config_error_naming_it(who):
    with pytest.raises(ConfigError, match=r"\[auth\.roles\] admin"):
        parse_roles({"admin": who})


def test_a_bad_entry_inside_a_list_names_its_role():
    with pytest.raises(ConfigError, match=r"\[auth\.roles\] editor: 'bob'"):
        parse_roles({"admin": ["alice@example.org"], "editor": ["group:eds", "bob"]})


# --- matching -------------------------------------------------------------------------

def test_an_email_rule_matches_case_insensitively():
    assert parse_rule("r", "alice@example.org").matches("ALICE@Example.org", NO_GROUPS, {})


def test_an_email_rule_does_not_match_another_email_or_no_email():
    rule = parse_rule("r", "alice@example.org")
    assert not rule.matches("mallory@example.org", NO_GROUPS, {})
    assert not rule.matches(None, NO_GROUPS, {})


def test_a_domain_rule_matches_only_that_exact_domain():
    rule = parse_rule("r", "domain:example.org")
    assert rule.matches("bob@EXAMPLE.org", NO_GROUPS, {})
    assert not rule.matches("bob@evil-example.org", NO_GROUPS, {})
    assert not rule.matches("bob@example.org.evil.test", NO_GROUPS, {})
    assert not rule.matches(None, NO_GROUPS, {})


def test_a_group_rule_matches_membership_exactly():
    rule = parse_rule("r", "group:admins")
    assert rule.matches(None, frozenset({"admins", "eng"}), {})
    assert not rule.matches(None, frozenset({"Admins", "admins-readonly"}), {})


def test_a_claim_rule_matches_a_string_claim_exactly():
    rule = parse_rule("r", "claim:dept=eng")
    assert rule.matches(None, NO_GROUPS, {"dept": "eng"})
    assert not rule.matches(None, NO_GROUPS, {"dept": "engineering"})
    assert not rule.matches(None, NO_GROUPS, {})


def test_a_claim_rule_matches_a_list_claim_holding_the_value():
    rule = parse_rule("r", "claim:teams=core")
    assert rule.matches(None, NO_GROUPS, {"teams": ["web", "core"]})
    assert not rule.matches(None, NO_GROUPS, {"teams": ["web"]})


def test_a_claim_rule_reaches_nested_claims():
    rule = parse_rule("r", "claim:realm_access.roles=admin")
    assert rule.matches(None, NO_GROUPS, {"realm_access": {"roles": ["admin"]}})


def test_a_claim_rule_matches_booleans_written_in_any_case():
    assert parse_rule("r", "claim:staff=true").matches(None, NO_GROUPS, {"staff": True})
    assert parse_rule("r", "claim:staff=True").matches(None, NO_GROUPS, {"staff": True})
    assert not parse_rule("r", "claim:staff=true").matches(None, NO_GROUPS, {"staff": False})


def test_a_claim_rule_matches_a_number_by_its_text():
    assert parse_rule("r", "claim:level=3").matches(None, NO_GROUPS, {"level": 3})
    assert not parse_rule("r", "claim:level=3").matches(None, NO_GROUPS, {"level": 30})


def test_roles_for_adds_every_matching_role_to_the_granted_ones():
    rules = parse_roles({
        "admin": ["alice@example.org"],
        "staff": ["domain:example.org"],
        "eng": ["group:eng"],
        "nobody": ["group:nobody"],
    })
    roles = roles_for(rules, email="alice@example.org", groups=frozenset({"eng"}), claims={}, granted=["beta"])
    assert roles == {"admin", "staff", "eng", "beta"}


def test_roles_for_without_rules_is_just_the_granted_roles():
    assert roles_for({}, email="a@b.c", groups=frozenset({"g"}), claims={}, granted=("x",)) == {"x"}
