"""LDAP password sign-in through SignInService: ``Alice`` and ``alice`` are one account to the
throttle and one user id (the directory stands in; tests/e2e/test_ldap.py uses a real slapd)."""

from __future__ import annotations

from typing import Any

import pytest

from stauth_server.core import hooks
from stauth_server.core.config import ServerConfig
from stauth_server.core.oidc.errors import SignInError
from stauth_server.core.signin import SignInService, TooManyAttempts
from stauth_server.core.sources.ldap import LdapConfig
from stauth_server.core.throttle import Throttle

PASSWORD = "alice-ldap-password"


class Directory:
    """Stands in for LdapSource: alice, in any case, as a directory matches uid."""

    def authenticate(self, username: str, password: str) -> dict[str, Any] | None:
        if username.lower() != "alice" or password != PASSWORD:
            return None
        return {"sub": "uid=alice,ou=people,dc=example,dc=org", "preferred_username": "alice", "groups": []}


@pytest.fixture(autouse=True)
def no_hooks(monkeypatch):
    monkeypatch.setattr(hooks, "_HOOKS", [])


@pytest.fixture
def service() -> SignInService:
    config = ServerConfig(cookie_secrets=("x" * 40,), store_url="memory://", ldap=LdapConfig(
        server_uri="ldap://127.0.0.1:1", user_dn_template="uid={username},ou=people,dc=example,dc=org"))
    service = SignInService(config)
    service.ldap = Directory()  # type: ignore[assignment]
    service.throttle = Throttle(clock=lambda: 5000.0)  # time stands still: waits never run out
    return service


def login(service: SignInService, username: str, password: str, ip: str):
    return service.password_login(username, password, ip, "/", {}, "browser-1", secure=False, path="/",
                                  source="ldap")


def refusal(service: SignInService, username: str, password: str, ip: str) -> SignInError:
    with pytest.raises(SignInError) as refused:
        login(service, username, password, ip)
    return refused.value


def test_failures_under_any_case_of_a_username_throttle_that_one_account(service):
    for n, spelling in enumerate(["Alice", "ALICE", "alice"]):
        assert refusal(service, spelling, "wrong", ip=f"203.0.113.{n}").user_message == "Wrong username or password."
    # a fresh address, the right password: only the account's key can refuse it
    assert isinstance(refusal(service, "aLiCe", PASSWORD, ip="203.0.113.9"), TooManyAttempts)
    # another account is not throttled
    assert refusal(service, "bob", "wrong", ip="203.0.113.10").user_message == "Wrong username or password."


def test_the_user_id_comes_from_the_directory_dn_not_from_the_typed_username(service):
    ids = {login(service, spelling, PASSWORD, ip=f"203.0.113.{n}").user.id
           for n, spelling in enumerate(["Alice", "alice"])}
    assert ids == {"ldap:ldap://127.0.0.1:1|uid=alice,ou=people,dc=example,dc=org"}
