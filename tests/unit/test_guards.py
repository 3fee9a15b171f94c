"""decide() and @requires (stauth_server.core.guards)."""

from __future__ import annotations

import asyncio

import pytest

from stauth_server.streamlit import script_api
from stauth_server.core.errors import Forbidden
from stauth_server.core.guards import Decision, decide, requires
from stauth_server.core.identity import ANONYMOUS, User

ALICE = User(id="https://idp|alice", email="alice@example.org", roles=frozenset({"admin"}),
             groups=frozenset({"eng"}))
BOB = User(id="https://idp|bob", email="bob@example.org", roles=frozenset({"viewer"}))


# --- decide ---------------------------------------------------------------------------

def test_a_visitor_is_sent_to_sign_in_by_default():
    assert decide(ANONYMOUS) is Decision.SIGN_IN


def test_a_visitor_passes_when_login_is_not_needed_and_nothing_else_is_asked():
    assert decide(ANONYMOUS, login=False) is Decision.ALLOW


@pytest.mark.parametrize("kwargs", [{"roles": ["admin"]}, {"groups": ["eng"]}, {"check": lambda u: True}])
def test_a_visitor_is_sent_to_sign_in_when_any_rule_is_given_even_without_login(kwargs):
    assert decide(ANONYMOUS, login=False, **kwargs) is Decision.SIGN_IN


def test_a_signed_in_user_with_no_rules_is_allowed():
    assert decide(BOB) is Decision.ALLOW


def test_one_of_the_roles_is_enough():
    assert decide(ALICE, roles=["editor", "admin"]) is Decision.ALLOW


def test_a_signed_in_user_without_the_role_is_forbidden_not_sent_to_sign_in():
    assert decide(BOB, roles=["admin"]) is Decision.FORBID


def test_groups_are_checked_like_roles():
    assert decide(ALICE, groups=["ops", "eng"]) is Decision.ALLOW
    assert decide(BOB, groups=["eng"]) is Decision.FORBID


def test_roles_and_groups_must_both_be_met():
    assert decide(ALICE, roles=["admin"], groups=["ops"]) is Decision.FORBID
    assert decide(ALICE, roles=["admin"], groups=["eng"]) is Decision.ALLOW


def test_the_check_function_gets_the_user_and_can_forbid():
    seen = []

    def only_alice(user: User) -> bool:
        seen.append(user)
        return user.email == "alice@example.org"

    assert decide(ALICE, check=only_alice) is Decision.ALLOW
    assert decide(BOB, check=only_alice) is Decision.FORBID
    assert seen == [ALICE, BOB]


def test_roles_given_as_a_generator_are_all_considered():
    assert decide(ALICE, roles=(r for r in ["viewer", "admin"])) is Decision.ALLOW


# --- requires -------------------------------------------------------------------------

def test_requires_runs_the_function_for_an_allowed_user():
    @requires(roles=["admin"], user=lambda: ALICE)
    def delete(item: str, *, force: bool = False) -> str:
        return f"deleted {item} force={force}"

    assert delete("x", force=True) == "deleted x force=True"


def test_requires_skips_the_function_for_others_and_returns_none():
    calls = []

    @requires(roles=["admin"], user=lambda: BOB)
    def delete() -> str:
        calls.append(1)
        return "deleted"

    assert delete() is None
    assert calls == []


def test_requires_with_raise_raises_forbidden_for_others():
    @requires(roles=["admin"], otherwise="raise", user=lambda: BOB)
    def delete() -> str:
        return "deleted"

    with pytest.raises(Forbidden) as caught:
        delete()
    assert caught.value.status == 403


def test_requires_with_raise_also_refuses_visitors():
    @requires(otherwise="raise", user=lambda: ANONYMOUS)
    def secret() -> str:
        return "secret"

    with pytest.raises(Forbidden):
        secret()


def test_requires_asks_for_the_user_at_each_call_not_at_decoration():
    current = [BOB]

    @requires(roles=["admin"], user=lambda: current[0])
    def action() -> str:
        return "done"

    assert action() is None
    current[0] = ALICE
    assert action() == "done"


def test_requires_keeps_the_function_name_and_docstring():
    @requires(user=lambda: ALICE)
    def report() -> None:
        """Build the report."""

    assert report.__name__ == "report"
    assert report.__doc__ == "Build the report."


def test_requires_guards_async_functions_too():
    @requires(roles=["admin"], user=lambda: ALICE)
    async def allowed() -> str:
        return "ok"

    @requires(roles=["admin"], user=lambda: BOB)
    async def skipped() -> str:
        return "ok"

    assert asyncio.iscoroutinefunction(allowed)
    assert asyncio.run(allowed()) == "ok"
    assert asyncio.run(skipped()) is None


def test_requires_on_an_async_function_raises_when_asked_to():
    @requires(roles=["admin"], otherwise="raise", user=lambda: BOB)
    async def action() -> str:
        return "ok"

    with pytest.raises(Forbidden):
        asyncio.run(action())


def test_requires_rejects_an_unknown_otherwise():
    with pytest.raises(ValueError, match="otherwise"):
        requires(otherwise="redirect")


def test_requires_without_a_user_function_asks_the_running_script(monkeypatch):
    monkeypatch.setattr(script_api, "current_user", lambda: ALICE)

    @requires(roles=["admin"])
    def action() -> str:
        return "ok"

    assert action() == "ok"
    monkeypatch.setattr(script_api, "current_user", lambda: BOB)
    assert action() is None


def test_requires_outside_a_script_treats_the_caller_as_a_visitor():
    @requires()
    def action() -> str:
        return "ok"

    assert action() is None  # no script run context: ANONYMOUS
