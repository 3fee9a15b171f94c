"""Page rules: [auth.access] and require_login (stauth_server.core.access)."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from stauth_server.core import access
from stauth_server.core.access import PageRules
from stauth_server.core.guards import Decision
from stauth_server.core.identity import ANONYMOUS, User

ADMIN = User(id="idp|alice", roles=frozenset({"admin"}))
VIEWER = User(id="idp|bob", roles=frozenset({"viewer"}))


def rules(access_map=None, require_login=False) -> PageRules:
    return PageRules(access=MappingProxyType(dict(access_map or {})), require_login=require_login)


def test_empty_rules_are_inactive_and_allow_everyone():
    empty = PageRules()
    assert not empty.active
    assert empty.decide(ANONYMOUS, ["admin"]) is Decision.ALLOW


def test_rules_are_active_with_any_page_rule_or_require_login():
    assert rules({"admin": ("admin",)}).active
    assert rules(require_login=True).active


def test_rule_for_is_none_when_no_name_has_a_rule():
    assert rules({"admin": ("admin",)}).rule_for(["reports", "reports.py"]) is None


def test_rule_for_takes_the_first_name_with_a_rule():
    page_rules = rules({"admin": ("admin",), "pages/admin.py": ("ops",)})
    assert page_rules.rule_for(["admin", "pages/admin.py"]) == ("admin",)
    assert page_rules.rule_for(["other", "pages/admin.py"]) == ("ops",)


def test_rule_for_ignores_slashes_around_a_name():
    assert rules({"admin": ("admin",)}).rule_for(["/admin/"]) == ("admin",)


def test_a_public_page_is_an_empty_tuple():
    assert rules({"about": ()}).rule_for(["about"]) == ()


def test_a_page_without_a_rule_is_open_to_visitors_when_login_is_not_required():
    assert rules({"admin": ("admin",)}).decide(ANONYMOUS, ["reports"]) is Decision.ALLOW


def test_a_page_without_a_rule_needs_sign_in_when_login_is_required():
    page_rules = rules(require_login=True)
    assert page_rules.decide(ANONYMOUS, ["reports"]) is Decision.SIGN_IN
    assert page_rules.decide(VIEWER, ["reports"]) is Decision.ALLOW


def test_a_public_page_is_open_to_visitors_even_when_login_is_required():
    assert rules({"about": ()}, require_login=True).decide(ANONYMOUS, ["about"]) is Decision.ALLOW


@pytest.mark.parametrize("require_login", [False, True])
def test_a_role_page_sends_visitors_to_sign_in_and_forbids_users_without_the_role(require_login):
    page_rules = rules({"admin": ("admin", "ops")}, require_login=require_login)
    assert page_rules.decide(ANONYMOUS, ["admin"]) is Decision.SIGN_IN
    assert page_rules.decide(VIEWER, ["admin"]) is Decision.FORBID
    assert page_rules.decide(ADMIN, ["admin"]) is Decision.ALLOW


def test_page_rules_are_frozen():
    with pytest.raises(AttributeError):
        PageRules().require_login = True  # type: ignore[misc]


def test_install_sets_the_rules_the_patch_reads(monkeypatch):
    monkeypatch.setattr(access, "RULES", access.RULES)
    installed = rules(require_login=True)
    access.install(installed)
    assert access.RULES is installed

