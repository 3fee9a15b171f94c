"""@on_login identity hooks (stauth_server.core.hooks)."""

from __future__ import annotations

import logging

import pytest

import stauth_server as sa
from stauth_server.core import hooks
from stauth_server.core.hooks import LoginRefused, on_login, registered, run_login_hooks
from stauth_server.core.identity import User

ALICE = User(id="local|alice", email="alice@corp.example", name="Alice")


@pytest.fixture(autouse=True)
def clean_registry(monkeypatch):
    monkeypatch.setattr(hooks, "_HOOKS", [])


def test_on_login_registers_the_function_and_returns_it_unchanged():
    def enrich(user, source):
        return None

    assert on_login(enrich) is enrich
    assert registered() == (enrich,)


def test_sa_on_login_is_the_same_registry():
    @sa.on_login
    def enrich(user, source):
        return None

    assert enrich in registered()


def test_registered_is_a_snapshot_not_the_live_registry():
    first = on_login(lambda u, s: None)
    snapshot = registered()
    second = on_login(lambda u, s: None)
    assert snapshot == (first,)
    assert registered() == (first, second)


def test_hooks_get_the_user_and_the_source():
    seen = []

    @on_login
    def record(user, source):
        seen.append((user, source))

    run_login_hooks(ALICE, "google")
    assert seen == [(ALICE, "google")]


def test_no_hooks_means_nothing_added():
    assert run_login_hooks(ALICE, "local") == ({}, [])


def test_a_returned_roles_list_adds_roles_and_other_keys_become_claims():
    @on_login
    def enrich(user, source):
        return {"roles": ["beta", "tester"], "plan": "pro"}

    assert run_login_hooks(ALICE, "local") == ({"plan": "pro"}, ["beta", "tester"])


def test_a_single_role_string_adds_that_one_role():
    on_login(lambda u, s: {"roles": "beta"})
    assert run_login_hooks(ALICE, "local") == ({}, ["beta"])


def test_every_hook_runs_in_registration_order_and_later_claims_win():
    order = []

    @on_login
    def first(user, source):
        order.append("first")
        return {"roles": ["a"], "tier": 1, "kept": True}

    @on_login
    def second(user, source):
        order.append("second")
        return {"roles": ["b"], "tier": 2}

    claims, roles = run_login_hooks(ALICE, "local")
    assert order == ["first", "second"]
    assert claims == {"tier": 2, "kept": True}
    assert roles == ["a", "b"]


def test_a_hook_returning_none_adds_nothing_but_later_hooks_still_run():
    on_login(lambda u, s: None)
    on_login(lambda u, s: {"x": 1})
    assert run_login_hooks(ALICE, "local") == ({"x": 1}, [])


def test_forbidden_refuses_the_sign_in_with_its_message():
    @on_login
    def gate(user, source):
        raise sa.Forbidden("Contractors may not use this app.")

    with pytest.raises(LoginRefused) as caught:
        run_login_hooks(ALICE, "local")
    assert caught.value.message == "Contractors may not use this app."


def test_forbidden_without_a_message_refuses_with_a_default_one():
    on_login(lambda u, s: (_ for _ in ()).throw(sa.Forbidden("")))
    with pytest.raises(LoginRefused) as caught:
        run_login_hooks(ALICE, "local")
    assert caught.value.message == "You may not sign in to this app."


def test_a_refusing_hook_stops_the_later_hooks():
    later = []
    on_login(lambda u, s: (_ for _ in ()).throw(sa.Forbidden("no")))
    on_login(lambda u, s: later.append(1))
    with pytest.raises(LoginRefused):
        run_login_hooks(ALICE, "local")
    assert later == []


def test_a_crashing_hook_refuses_with_a_generic_message_and_logs_the_error(caplog):
    @on_login
    def broken(user, source):
        raise KeyError("secret-internal-detail")

    with caplog.at_level(logging.ERROR, logger="stauth_server.hooks"):
        with pytest.raises(LoginRefused) as caught:
            run_login_hooks(ALICE, "local")
    assert "secret-internal-detail" not in caught.value.message
    assert caught.value.message == "The app could not complete your sign-in. Try again later."
    assert "broken" in caplog.text


@pytest.mark.parametrize("result", [["beta"], "beta", 3, True])
def test_a_hook_returning_something_other_than_a_dict_or_none_refuses(result):
    on_login(lambda u, s: result)
    with pytest.raises(LoginRefused, match="could not complete"):
        run_login_hooks(ALICE, "local")


@pytest.mark.parametrize("roles", [None, 3])
def test_a_hook_returning_malformed_roles_refuses_like_any_other_broken_hook(roles):
    on_login(lambda u, s: {"roles": roles})
    with pytest.raises(LoginRefused, match="could not complete"):
        run_login_hooks(ALICE, "local")


def test_explicit_hooks_replace_the_registry():
    on_login(lambda u, s: {"from": "registry"})
    assert run_login_hooks(ALICE, "local", hooks=[lambda u, s: {"from": "explicit"}]) == ({"from": "explicit"}, [])
