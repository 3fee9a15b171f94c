"""SignInService.password_login: local accounts to a session (stauth_server.core.signin)."""

from __future__ import annotations

import pytest
from cheap_argon2 import use_cheap_hasher

import stauth_server as sa
from stauth_server.core import hooks
from stauth_server.core.config import ServerConfig
from stauth_server.core.oidc.errors import SignInError
from stauth_server.core.roles import parse_roles
from stauth_server.core.store.memory import MemoryStore
from stauth_server.core.signin import SignInService, TooManyAttempts
from stauth_server.core.sources import local
from stauth_server.core.sources.local import LocalAccount, UsersFile, hash_password
from stauth_server.core.throttle import Throttle

WRONG = "Wrong username or password."


@pytest.fixture(autouse=True)
def cheap(monkeypatch):
    return use_cheap_hasher(monkeypatch)


@pytest.fixture(autouse=True)
def no_hooks(monkeypatch):
    monkeypatch.setattr(hooks, "_HOOKS", [])


@pytest.fixture
def users_path(tmp_path, cheap):
    path = tmp_path / "users.toml"
    UsersFile(path).save([
        LocalAccount("alice", hash_password("alice-password"), "alice@example.org", "Alice Example", ("admin",)),
        LocalAccount("bob", hash_password("bob-password"), None, None, ("viewer",)),
        LocalAccount("dave", hash_password("dave-password"), disabled=True),
    ])
    return path


class Clock:
    now = 5000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def service(users_path) -> SignInService:
    return make_service(users_path)


def make_service(users_path, **config) -> SignInService:
    service = SignInService(ServerConfig(users_file=users_path, cookie_secrets=("x" * 40,), **config),
                            store=MemoryStore())
    service.throttle = Throttle(clock=Clock())  # time stands still: waits never run out by themselves
    return service


def login(service, username="alice", password="alice-password", *, ip="203.0.113.7", cookies=None):
    return service.password_login(username, password, ip, "/reports", cookies or {}, "browser-1",
                                  secure=False, path="/")


def jar(done) -> dict[str, str]:
    return {c.name: c.value for c in done.cookies if c.value is not None}


# --- success --------------------------------------------------------------------------

def test_the_right_password_gives_session_cookies_that_resolve_to_the_user(service):
    done = login(service)
    assert done.next_path == "/reports"
    assert jar(done) and all(c.max_age and c.max_age > 0 for c in done.cookies if c.value)
    resolved = service.resolve(jar(done))
    user = resolved.user
    assert user.is_logged_in and user.id == done.user.id == "local|alice"
    assert (user.email, user.name, user.provider) == ("alice@example.org", "Alice Example", "local")
    assert user.roles == {"admin"}
    assert resolved.record is not None and resolved.record.data.browser == "browser-1"


def test_the_session_cookie_does_not_carry_the_password_or_hash_in_clear(service, users_path):
    value = "".join(jar(login(service)).values())
    assert "alice-password" not in value and "argon2" not in value and "alice@example.org" not in value


def test_roles_rules_apply_to_local_users_too(users_path):
    service = make_service(users_path, roles=parse_roles({"staff": ["domain:example.org"]}))
    assert service.resolve(jar(login(service))).user.roles == {"admin", "staff"}


def test_a_password_changed_in_the_file_works_without_a_restart(service, users_path):
    login(service)
    store = UsersFile(users_path)
    accounts = store.accounts()
    accounts["alice"] = LocalAccount("alice", hash_password("a-new-password!"), "alice@example.org", None,
                                     ("admin",))
    store.save(accounts.values())
    with pytest.raises(SignInError):
        login(service)
    assert login(service, password="a-new-password!").user.id == "local|alice"


def test_signing_in_again_ends_the_previous_session(service):
    first = jar(login(service))
    second = login(service, cookies=first)
    assert not service.resolve(first).user.is_logged_in
    assert service.resolve(jar(second)).user.is_logged_in


# --- refusals -------------------------------------------------------------------------

def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(service):
    with pytest.raises(SignInError) as wrong:
        login(service, "alice", "not-her-password")
    with pytest.raises(SignInError) as unknown:
        login(service, "mallory", "not-her-password")
    assert wrong.value.user_message == unknown.value.user_message == WRONG
    assert type(wrong.value) is type(unknown.value) is SignInError
    assert wrong.value.status == unknown.value.status == 400


def test_a_disabled_account_cannot_sign_in_and_gets_the_same_answer(service):
    with pytest.raises(SignInError) as caught:
        login(service, "dave", "dave-password")
    assert caught.value.user_message == WRONG


def test_without_local_accounts_password_sign_in_is_unavailable():
    service = SignInService(ServerConfig(cookie_secrets=("x" * 40,)), store=MemoryStore())
    with pytest.raises(SignInError) as caught:
        login(service)
    assert caught.value.user_message == "Password sign-in is not available."


# --- throttling -----------------------------------------------------------------------

def test_after_three_failures_even_the_right_password_is_refused_with_429(service):
    for _ in range(3):
        with pytest.raises(SignInError):
            login(service, "alice", "guess")
    with pytest.raises(TooManyAttempts) as caught:
        login(service, "alice", "alice-password")
    assert caught.value.status == 429
    assert caught.value.user_message.startswith("Too many attempts.")


def test_a_throttled_attempt_does_no_password_work(service, monkeypatch):
    for _ in range(3):
        with pytest.raises(SignInError):
            login(service, "alice", "guess")
    verified = []
    real = local.HASHER

    class Counting:
        def verify(self, hashed, password):
            verified.append(hashed)
            return real.verify(hashed, password)

    monkeypatch.setattr(local, "HASHER", Counting())
    with pytest.raises(TooManyAttempts):
        login(service, "alice", "alice-password")
    assert verified == []
    assert login(service, "bob", "bob-password", ip="192.0.2.9").user.id == "local|bob"
    assert len(verified) == 1  # the counter does see verifies that happen


def test_failures_from_one_address_throttle_it_for_other_accounts(service):
    for name in ("alice", "bob", "carol"):
        with pytest.raises(SignInError):
            login(service, name, "guess", ip="198.51.100.1")
    with pytest.raises(TooManyAttempts):
        login(service, "bob", "bob-password", ip="198.51.100.1")
    assert login(service, "bob", "bob-password", ip="198.51.100.2").user.id == "local|bob"


def test_failures_for_one_account_throttle_it_from_other_addresses(service):
    for i in range(3):
        with pytest.raises(SignInError):
            login(service, "alice", "guess", ip=f"198.51.100.{i}")
    with pytest.raises(TooManyAttempts):
        login(service, "alice", "alice-password", ip="192.0.2.50")


def test_the_account_throttle_ignores_username_case(service):
    for i, name in enumerate(("alice", "ALICE", "Alice")):
        with pytest.raises(SignInError):
            login(service, name, "guess", ip=f"198.51.100.{i}")
    with pytest.raises(TooManyAttempts):
        login(service, "alice", "alice-password", ip="192.0.2.50")


def test_a_success_resets_the_count(service):
    for _ in range(2):
        with pytest.raises(SignInError):
            login(service, "alice", "guess")
    login(service)
    for _ in range(2):
        with pytest.raises(SignInError) as caught:
            login(service, "alice", "guess")
        assert not isinstance(caught.value, TooManyAttempts)
    assert login(service).user.id == "local|alice"


# --- hooks ----------------------------------------------------------------------------

def test_hooks_run_with_the_local_user_and_source(service):
    seen = []
    hooks.on_login(lambda user, source: seen.append((user.id, sorted(user.roles), source)))
    login(service)
    assert seen == [("local|alice", ["admin"], "local")]


def test_a_hook_refusing_stops_the_sign_in_with_its_message(service):
    @sa.on_login
    def gate(user, source):
        raise sa.Forbidden("Alice is on holiday.")

    with pytest.raises(SignInError) as caught:
        login(service)
    assert caught.value.user_message == "Alice is on holiday."


def test_a_hook_refusing_does_not_end_the_existing_session(service):
    existing = jar(login(service, "bob", "bob-password"))

    @sa.on_login
    def gate(user, source):
        if user.id == "local|alice":
            raise sa.Forbidden("Not today.")

    with pytest.raises(SignInError):
        login(service, cookies=existing)
    resolved = service.resolve(existing)
    assert resolved.user.id == "local|bob"


def test_a_hooks_roles_and_claims_are_added_to_the_session(service):
    sa.on_login(lambda user, source: {"roles": ["beta"], "x": 1})
    done = login(service)
    assert done.user.roles == {"admin", "beta"} and done.user.claims["x"] == 1
    user = service.resolve(jar(done)).user
    assert user.roles == {"admin", "beta"}
    assert user.claims["x"] == 1


def test_a_hook_returning_malformed_roles_refuses_the_sign_in_instead_of_crashing(service):
    sa.on_login(lambda user, source: {"roles": None})
    with pytest.raises(SignInError):
        login(service)
