"""What a local account needs after its password, and the core checks of the second step
(stauth_server.core.signin.second_factor_needed, core.accounts.second_step.SecondStep)."""

from __future__ import annotations

import time

import pyotp
import pytest
from cheap_argon2 import use_cheap_hasher

from stauth_server.core.accounts.second_factor import enrol_totp
from stauth_server.core.accounts.secret_box import SecretBox
from stauth_server.core.accounts.second_step import CodeRefused, SecondStep
from stauth_server.core.accounts.totp import INTERVAL, new_secret
from stauth_server.core.config import ServerConfig
from stauth_server.core.oidc.errors import SignInError
from stauth_server.core.roles import parse_roles
from stauth_server.core.signin import LocalFirstFactor, SignInService, TooManyAttempts, WrongPassword
from stauth_server.core.sources.local import LocalAccount, UsersFile, hash_password
from stauth_server.core.store.memory import MemoryStore

SECRETS = ("x" * 40,)
SECRET = new_secret()


@pytest.fixture
def users_path(tmp_path, monkeypatch):
    use_cheap_hasher(monkeypatch)
    path = tmp_path / "users.toml"
    UsersFile(path).save([
        LocalAccount("alice", hash_password("alice-password"), "alice@example.org", "Alice", ("admin",)),
        LocalAccount("bob", hash_password("bob-password"), "bob@corp.example", "Bob"),
        LocalAccount("carol", hash_password("carol-password"), "carol@example.org", "Carol"),
    ])
    return path


def service(users_path, **config) -> SignInService:
    return SignInService(ServerConfig(users_file=users_path, cookie_secrets=SECRETS, **config), store=MemoryStore())


def enrol(users_path, username="carol"):
    return enrol_totp(UsersFile(users_path), username, secret=SECRET,
                      code=pyotp.TOTP(SECRET).at(time.time() - INTERVAL), box=SecretBox(SECRETS))


def test_what_each_account_needs(users_path):
    enrol(users_path)
    plain = service(users_path)
    assert [plain.second_factor_needed(u) for u in ("alice", "bob", "carol")] == [None, None, "code"]
    by_role = service(users_path, require_second_factor=("admin",),
                      roles=parse_roles({"admin": ["bob@corp.example"]}))
    assert [by_role.second_factor_needed(u) for u in ("alice", "bob", "carol")] == ["enrol", "enrol", "code"]
    everyone = service(users_path, require_second_factor=True)
    assert [everyone.second_factor_needed(u) for u in ("alice", "bob", "carol")] == ["enrol", "enrol", "code"]


def test_a_password_alone_never_starts_the_session_of_an_account_with_a_second_factor(users_path):
    enrol(users_path)
    signin = service(users_path)
    with pytest.raises(SignInError, match="second factor"):
        signin.password_login("carol", "carol-password", "203.0.113.7", "/", {}, None, secure=False, path="/")
    first = signin.password_login("carol", "carol-password", "203.0.113.7", "/x", {}, None, secure=False, path="/",
                                  second_step=True)
    assert isinstance(first, LocalFirstFactor) and (first.username, first.next_path) == ("carol", "/x")
    assert first.credential  # the password hash it was checked against: the second step is bound to it


def test_required_enrolment_also_refuses_the_password_alone(users_path):
    signin = service(users_path, require_second_factor=True)
    with pytest.raises(SignInError):
        signin.password_login("bob", "bob-password", "203.0.113.7", "/", {}, None, secure=False, path="/")


def test_failed_codes_survive_a_correct_password(users_path):
    enrol(users_path)
    signin = service(users_path)
    checks = SecondStep(signin.users, SECRETS, signin.throttle)
    for _ in range(3):
        with pytest.raises(CodeRefused):
            checks.check("carol", "abcdef", "203.0.113.7")
    signin.password_login("carol", "carol-password", "203.0.113.7", "/", {}, None, secure=False, path="/",
                          second_step=True)
    with pytest.raises(TooManyAttempts):
        checks.check("carol", pyotp.TOTP(SECRET).now(), "203.0.113.7")


def test_a_candidate_opens_only_for_its_own_account(users_path):
    checks = SecondStep(UsersFile(users_path), SECRETS, service(users_path).throttle)
    secret, sealed = checks.new_candidate("bob")
    assert checks.open_candidate("bob", sealed) == secret
    assert checks.open_candidate("carol", sealed) is None
    assert checks.open_candidate("bob", secret) is None
    other = SecondStep(UsersFile(users_path), ("y" * 40,), service(users_path).throttle)
    assert other.open_candidate("bob", sealed) is None


def test_enrolling_from_the_account_page_needs_the_current_password(users_path):
    signin = service(users_path)
    checks = SecondStep(signin.users, SECRETS, signin.throttle)
    secret, sealed = checks.new_candidate("bob")
    for guess in ("carol-password", "", ["bob-password"]):  # a stolen session: no password, or not this one
        with pytest.raises(WrongPassword):
            checks.enrol("bob", sealed, pyotp.TOTP(secret).now(), "203.0.113.7", via="account_page", password=guess)
    assert not UsersFile(users_path).accounts()["bob"].has_second_factor
    with pytest.raises(TooManyAttempts):  # the password throttle: the right one waits too
        checks.enrol("bob", sealed, pyotp.TOTP(secret).now(), "203.0.113.7", via="account_page",
                     password="bob-password")
    with pytest.raises(TooManyAttempts):  # the same count as the login form's
        signin.password_login("bob", "bob-password", "203.0.113.7", "/", {}, None, secure=False, path="/")
    assert not UsersFile(users_path).accounts()["bob"].has_second_factor


def test_the_right_password_enrols_and_the_sign_in_step_asks_none(users_path):
    checks = SecondStep(UsersFile(users_path), SECRETS, service(users_path).throttle)
    secret, sealed = checks.new_candidate("bob")
    assert len(checks.enrol("bob", sealed, pyotp.TOTP(secret).now(), None, via="account_page",
                            password="bob-password")) == 10
    secret, sealed = checks.new_candidate("alice")
    assert len(checks.enrol("alice", sealed, pyotp.TOTP(secret).now(), None, via="sign_in", password=None)) == 10
    accounts = UsersFile(users_path).accounts()
    assert accounts["bob"].has_second_factor and accounts["alice"].has_second_factor
