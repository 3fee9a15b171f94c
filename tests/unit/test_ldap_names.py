"""LDAP names (stauth_server.core.sources.ldap): one spelling per DN, and which groups get a bare name."""

from __future__ import annotations

import pytest

from stauth_server.core.roles import parse_roles, roles_for
from stauth_server.core.sources.ldap import group_names, normalize_dn

BASE = "ou=groups,dc=example,dc=org"


@pytest.mark.parametrize("spelling", [
    "uid=alice,ou=people,dc=example,dc=org",
    "UID=Alice,OU=People,DC=Example,DC=Org",
    "uid=alice, ou=people, dc=example, dc=org",
    "uid = alice,ou=people ,dc=example,dc=org",
])
def test_spellings_of_one_dn_normalise_to_the_same_text(spelling):
    assert normalize_dn(spelling) == "uid=alice,ou=people,dc=example,dc=org"


def test_escapes_are_normalised_and_kept_where_they_matter():
    assert normalize_dn(r"cn=Smith\2c John,ou=people") == normalize_dn(r"cn=smith\, john,ou=people") \
        == r"cn=smith\, john,ou=people"
    assert normalize_dn(r"cn=caf\c3\a9,ou=people") == "cn=café,ou=people"
    assert normalize_dn(r"cn=a\+b+uid=x,ou=people") == r"cn=a\+b+uid=x,ou=people"


@pytest.mark.parametrize("not_a_dn", ["", "admins", "cn=admins,,", 42])
def test_what_is_not_a_dn_is_a_value_error(not_a_dn):
    with pytest.raises(ValueError):
        normalize_dn(not_a_dn)


def test_a_group_directly_under_the_base_gets_its_bare_name_and_its_dn():
    dn = "cn=admins,ou=groups,dc=example,dc=org"
    assert group_names([dn], BASE) == {"admins", dn}


@pytest.mark.parametrize("elsewhere", [
    "cn=admins,ou=contractors,dc=example,dc=org",       # outside the base
    "cn=admins,ou=projects,ou=groups,dc=example,dc=org",  # below the base, not directly under it
    "cn=admins,dc=example,dc=org",                       # above the base
    "cn=admins+ou=x,ou=groups,dc=example,dc=org",         # a multi-valued RDN
])
def test_a_group_of_the_same_name_elsewhere_keeps_only_its_dn(elsewhere):
    assert group_names([elsewhere], BASE) == {elsewhere}


def test_the_base_is_compared_dn_wise_and_the_directorys_spelling_is_kept():
    dn = "CN=Admins, OU=Groups, DC=Example, DC=Org"
    assert group_names([dn], "ou=groups,dc=example,dc=org") == {"Admins", dn}
    assert group_names(["cn=admins,ou=groups,dc=example,dc=org"], "OU=Groups, DC=example,DC=org") \
        == {"admins", "cn=admins,ou=groups,dc=example,dc=org"}


def test_without_a_group_search_base_no_group_gets_a_bare_name():
    assert group_names(["cn=admins,ou=groups,dc=example,dc=org"], None) == {"cn=admins,ou=groups,dc=example,dc=org"}


def test_one_group_seen_twice_in_two_spellings_is_listed_once():
    names = group_names(["cn=users,ou=groups,dc=example,dc=org", "CN=users, ou=groups,dc=example,dc=org"], BASE)
    assert names == {"users", "cn=users,ou=groups,dc=example,dc=org"}


def test_a_bare_name_that_spells_a_dn_is_not_given():
    sneaky = r"cn=cn\=admins\,ou\=groups\,dc\=example\,dc\=org,ou=groups,dc=example,dc=org"
    assert group_names([sneaky], BASE) == {sneaky}


def test_malformed_group_dns_are_left_out():
    assert group_names(["not a dn", "cn=users,ou=groups,dc=example,dc=org"], BASE) \
        == {"users", "cn=users,ou=groups,dc=example,dc=org"}


def test_group_admins_grants_its_role_only_to_the_group_under_the_base_and_a_dn_rule_to_that_dn():
    rules = parse_roles({"admin": ["group:admins"], "contractor": ["group:cn=admins,ou=contractors,dc=example,dc=org"]})

    def roles(dns: list[str]) -> frozenset[str]:
        return roles_for(rules, email=None, groups=frozenset(group_names(dns, BASE)), claims={})

    assert roles(["cn=admins,ou=groups,dc=example,dc=org"]) == {"admin"}
    assert roles(["cn=admins,ou=contractors,dc=example,dc=org"]) == {"contractor"}
    assert roles(["cn=admins,ou=projects,ou=groups,dc=example,dc=org"]) == frozenset()
