"""One password form for every password source: local accounts first, then LDAP, one
answer, one throttle count per submit; the source chooser only when configured."""

from __future__ import annotations

from typing import Any

import pytest
from cheap_argon2 import use_cheap_hasher

from stauth_server.core import hooks
from stauth_server.core.config import ServerConfig
from stauth_server.core.oidc.errors import SignInError
from stauth_server.core.signin import SignInService, SourceUnavailable, TooManyAttempts
from stauth_server.core.sources.ldap import LdapConfig, LdapUnavailable
from stauth_server.core.sources.local import LocalAccount, UsersFile, hash_password
from stauth_server.core.store.memory import MemoryStore
from stauth_server.core.throttle import Throttle

WRONG = "Wrong username or password."
LDAP = LdapConfig(server_uri="ldap://127.0.0.1:1", user_dn_template="uid={username},ou=people,dc=example,dc=org")


class Directory:
    """Stands in for LdapSource: carol and (another) alice live in the directory."""

    def __init__(self, down: bool = False):
        self.down = down
        self.asked: list[str] = []

    def authenticate(self, username: str, password: str) -> dict[str, Any] | None:
        self.asked.append(username)
        if self.down:
            raise LdapUnavailable("ldap://127.0.0.1:1: connection refused")
        if (username, password) in (("carol", "carol-ldap"), ("alice", "alice-ldap")):
            return {"sub": f"uid={username},ou=people,dc=example,dc=org", "preferred_username": username,
                    "groups": ["staff"]}
        return None


@pytest.fixture(autouse=True)
def setup(monkeypatch):
    use_cheap_hasher(monkeypatch)
    monkeypatch.setattr(hooks, "_HOOKS", [])


def make_service(tmp_path, *, chooser: bool = False, down: bool = False, local: bool = True) -> SignInService:
    users = None
    if local:
        users = tmp_path / "users.toml"
        UsersFile(users).save([LocalAccount("alice", hash_password("alice-local"), "alice@example.org"),
                               LocalAccount("dave", hash_password("dave-local"), disabled=True)])
    service = SignInService(ServerConfig(users_file=users, ldap=LDAP, cookie_secrets=("x" * 40,),
                                         password_source_chooser=chooser), store=MemoryStore())
    service.ldap = Directory(down)  # type: ignore[assignment]
    service.throttle = Throttle(clock=lambda: 5000.0)  # time stands still
    return service


def login(service, username, password, source=None, ip="203.0.113.7"):
    return service.password_login(username, password, ip, "/", {}, "browser-1", secure=False, path="/",
                                  source=source)


def refusal(service, *args, **kwargs) -> SignInError:
    with pytest.raises(SignInError) as caught:
        login(service, *args, **kwargs)
    return caught.value


def test_a_local_account_signs_in_without_asking_the_directory(tmp_path):
    service = make_service(tmp_path)
    assert login(service, "alice", "alice-local").user.id == "local|alice"
    assert service.ldap.asked == []


def test_a_directory_user_signs_in_with_the_same_form(tmp_path):
    service = make_service(tmp_path)
    done = login(service, "carol", "carol-ldap")
    assert done.user.provider == "ldap" and done.user.id.endswith("|uid=carol,ou=people,dc=example,dc=org")


def test_a_wrong_local_password_goes_on_to_the_directory_like_grafana(tmp_path):
    service = make_service(tmp_path)
    done = login(service, "alice", "alice-ldap")  # not alice's local password, but the directory's alice's
    assert done.user.provider == "ldap" and service.ldap.asked == ["alice"]


def test_unknown_wrong_and_disabled_all_get_one_answer_after_asking_every_source(tmp_path):
    service = make_service(tmp_path)
    answers = [refusal(service, name, "nope", ip=f"198.51.100.{i}")
               for i, name in enumerate(["alice", "mallory", "dave", "carol"])]
    assert {(type(a), a.user_message, a.status) for a in answers} == {(SignInError, WRONG, 400)}
    assert service.ldap.asked == ["alice", "mallory", "dave", "carol"]


def test_one_submit_counts_one_attempt_whatever_the_number_of_sources(tmp_path):
    service = make_service(tmp_path)
    for i in range(3):
        refusal(service, "carol", "guess", ip=f"198.51.100.{i}")
    assert service.throttle._failures["user:carol"][0] == 3
    assert isinstance(refusal(service, "carol", "carol-ldap", ip="192.0.2.1"), TooManyAttempts)


def test_the_account_throttle_is_one_key_whichever_source_the_chooser_names(tmp_path):
    service = make_service(tmp_path, chooser=True)
    for i, source in enumerate(["local", "ldap", "local"]):
        refusal(service, "alice", "guess", source=source, ip=f"198.51.100.{i}")
    assert isinstance(refusal(service, "alice", "alice-local", source="ldap", ip="192.0.2.1"), TooManyAttempts)


def test_without_the_chooser_a_posted_source_is_ignored(tmp_path):
    service = make_service(tmp_path)
    assert login(service, "carol", "carol-ldap", source="local").user.provider == "ldap"
    assert login(service, "alice", "alice-local", source="bogus").user.provider == "local"


def test_with_the_chooser_only_the_named_source_is_asked(tmp_path):
    service = make_service(tmp_path, chooser=True)
    assert refusal(service, "carol", "carol-ldap", source="local").user_message == WRONG
    assert service.ldap.asked == []
    assert login(service, "carol", "carol-ldap", source="ldap").user.provider == "ldap"
    assert refusal(service, "carol", "carol-ldap", source="kerberos").user_message == \
        "Password sign-in is not available."


def test_with_the_chooser_and_no_source_every_source_is_tried(tmp_path):
    assert login(make_service(tmp_path, chooser=True), "carol", "carol-ldap").user.provider == "ldap"


def test_a_local_account_still_signs_in_while_the_directory_is_down(tmp_path):
    assert login(make_service(tmp_path, down=True), "alice", "alice-local").user.id == "local|alice"


def test_directory_down_after_a_local_refusal_says_so_and_still_counts_the_guess(tmp_path):
    service = make_service(tmp_path, down=True)
    answer = refusal(service, "mallory", "guess")
    assert isinstance(answer, SourceUnavailable) and answer.status == 503
    assert service.throttle._failures["user:mallory"][0] == 1  # the local check ran: it was a guess


def test_directory_down_with_nothing_else_to_check_is_refunded(tmp_path):
    service = make_service(tmp_path, down=True, local=False)
    for _ in range(5):
        assert isinstance(refusal(service, "carol", "carol-ldap"), SourceUnavailable)
    assert service.throttle._failures == {}


def test_an_unknown_user_costs_the_same_password_work_as_a_known_one(tmp_path, monkeypatch):
    from stauth_server.core.sources import local

    service = make_service(tmp_path)
    verified: list[str] = []
    real = local.HASHER

    class Counting:
        def verify(self, hashed, password):
            verified.append(hashed)
            return real.verify(hashed, password)

    monkeypatch.setattr(local, "HASHER", Counting())
    refusal(service, "alice", "nope", ip="198.51.100.1")
    refusal(service, "mallory", "nope", ip="198.51.100.2")
    assert len(verified) == 2 and service.ldap.asked == ["alice", "mallory"]  # one argon2 and one bind each
