"""The User model: always present, anonymous for visitors, roles and groups as sets."""

from __future__ import annotations

import dataclasses

import pytest

from stauth_server.core.errors import Forbidden
from stauth_server.core.identity import ANONYMOUS, User

ALICE = User(
    id="oidc:https://idp.example|alice",
    email="alice@example.org",
    name="Alice",
    roles=frozenset({"admin", "editor"}),
    groups=frozenset({"staff"}),
    claims={"dept": "eng"},
)


def test_anonymous_is_not_logged_in_and_has_nothing():
    assert ANONYMOUS.is_logged_in is False
    assert ANONYMOUS.has_role("admin") is False
    assert ANONYMOUS.in_group("staff") is False


def test_a_user_with_an_id_is_logged_in():
    assert ALICE.is_logged_in is True


def test_has_role_is_true_for_any_one_of_the_roles():
    assert ALICE.has_role("viewer", "editor") is True
    assert ALICE.has_role("viewer") is False
    assert ALICE.has_role() is False


def test_in_group_is_true_for_any_one_of_the_groups():
    assert ALICE.in_group("contractors", "staff") is True
    assert ALICE.in_group("contractors") is False


def test_public_dict_is_json_ready_and_sorted():
    data = ALICE.public_dict()
    assert data["is_logged_in"] is True
    assert data["roles"] == ["admin", "editor"]
    assert data["groups"] == ["staff"]
    assert data["claims"] == {"dept": "eng"}
    assert data["email"] == "alice@example.org"


def test_anonymous_public_dict_has_no_id():
    assert ANONYMOUS.public_dict()["id"] is None
    assert ANONYMOUS.public_dict()["is_logged_in"] is False


def test_users_are_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ALICE.email = "mallory@example.org"


def test_forbidden_is_a_403_http_error():
    error = Forbidden("not yours")
    assert (error.status, error.message) == (403, "not yours")
    assert Forbidden().message == "Forbidden"
