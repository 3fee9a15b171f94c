"""An attacker's probes of local accounts below HTTP: hostile text through the users file's
writer, codes raced from threads, look-alike digits and letters, header injection in the
messages, and the second step bound to the password it checked."""

from __future__ import annotations

import threading
import time

import pyotp
import pytest
from cheap_argon2 import use_cheap_hasher

from stauth_server.core.accounts import recovery
from stauth_server.core.accounts.mail import invitation_message, password_reset_message
from stauth_server.core.accounts.pending import PendingSteps
from stauth_server.core.accounts.recovery_flows import invite
from stauth_server.core.accounts.second_factor import enrol_totp, verify_second_factor
from stauth_server.core.accounts.secret_box import SecretBox
from stauth_server.core.accounts.totp import INTERVAL, accepted_step, new_secret
from stauth_server.core.session_records import credential_fingerprint
from stauth_server.core.signin import LocalFirstFactor, SignInService
from stauth_server.core.config import ServerConfig
from stauth_server.core.sources.local import LocalAccount, Passkey, UsersFile, hash_password
from stauth_server.core.store.memory import MemoryStore

SECRETS = ("x" * 40,)
REDIRECT_URI = "https://app.example.org/oauth2callback"
HOSTILE = ["Eve\x7f", "\x7f\x7f", 'q"uote\\back', "new\nline\r\n", "nul\x00", "tab\t", "]]\n[users.root]\n",
           "\u2028\u2029\ufeff", "émoji 🔑", "'''\"\"\""]


@pytest.fixture
def users(tmp_path, monkeypatch) -> UsersFile:
    use_cheap_hasher(monkeypatch)
    store = UsersFile(tmp_path / "users.toml")
    store.save([LocalAccount("alice", hash_password("alice-password"), "alice@example.org", "Alice")])
    return store


# --- the users file's writer ------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_an_invitation_with_a_hostile_name_keeps_the_users_file_readable(users, text):
    # `users invite --name` takes any text: a DEL in it made the file invalid TOML, and
    # with it every local sign-in of the app (the file could not even be rewritten).
    invite(users, "eve@example.org", REDIRECT_URI, username="eve", name=text, roles=[text])
    accounts = users.accounts()
    assert accounts["eve"].name == text and accounts["eve"].roles == (text,)
    assert set(accounts) == {"alice", "eve"}  # nothing smuggled in as another account


@pytest.mark.parametrize("text", HOSTILE)
def test_every_stored_text_round_trips_through_the_writer(users, text):
    passkey = Passkey(credential_id="Y3JlZA", public_key="a2V5", sign_count=3, name=text, created=1,
                      user_handle="aGFuZGxl")

    def change(accounts):
        accounts["alice"] = LocalAccount("alice", accounts["alice"].password_hash, "alice@example.org", text,
                                         (text,), passkeys=(passkey,))

    users.update(change)
    account = users.accounts()["alice"]
    assert (account.name, account.roles, account.passkeys) == (text, (text,), (passkey,))
    users.update(lambda accounts: None)  # and it can be written again
    assert users.accounts()["alice"].passkeys == (passkey,)


# --- codes raced from threads ---------------------------------------------------------------------


def _race(fn, count: int = 8) -> list:
    barrier, results = threading.Barrier(count), []

    def run():
        barrier.wait()
        results.append(fn())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_one_totp_code_raced_from_many_threads_is_accepted_once(users):
    secret, box = new_secret(), SecretBox(SECRETS)
    enrol_totp(users, "alice", secret=secret, code=pyotp.TOTP(secret).at(time.time() - INTERVAL), box=box)
    code = pyotp.TOTP(secret).now()
    results = _race(lambda: verify_second_factor(UsersFile(users.path), "alice", code, box))
    assert len(results) == 8 and results.count("totp") == 1 and results.count(None) == 7


def test_one_recovery_code_raced_from_many_threads_is_accepted_once(users):
    secret, box = new_secret(), SecretBox(SECRETS)
    codes = enrol_totp(users, "alice", secret=secret, code=pyotp.TOTP(secret).at(time.time() - INTERVAL), box=box)
    results = _race(lambda: verify_second_factor(UsersFile(users.path), "alice", codes[0], box))
    assert len(results) == 8 and results.count("recovery") == 1 and results.count(None) == 7
    assert len(users.accounts()["alice"].recovery_codes) == 9


def test_two_enrolments_raced_leave_one_second_factor(users):
    box, secrets = SecretBox(SECRETS), [new_secret() for _ in range(6)]
    pending = iter(secrets)
    lock = threading.Lock()

    def enrol_one():
        with lock:
            secret = next(pending)
        try:
            return enrol_totp(UsersFile(users.path), "alice", secret=secret, code=pyotp.TOTP(secret).now(), box=box)
        except ValueError:  # SecondFactorError: already enrolled
            return None

    results = _race(enrol_one, count=6)
    assert sum(r is not None for r in results) == 1
    account = users.accounts()["alice"]
    assert account.has_second_factor and len(account.recovery_codes) == 10


def test_rotating_addresses_does_not_escape_the_per_account_throttle(users):
    from stauth_server.core.accounts.second_step import CodeRefused, SecondStep
    from stauth_server.core.signin import TooManyAttempts
    from stauth_server.core.throttle import Throttle

    secret = new_secret()
    enrol_totp(users, "alice", secret=secret, code=pyotp.TOTP(secret).at(time.time() - INTERVAL),
               box=SecretBox(SECRETS))
    checks = SecondStep(users, SECRETS, Throttle())
    wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    outcomes = []
    for n in range(8):
        try:
            checks.check("alice", wrong, f"198.51.100.{n}")
        except CodeRefused:
            outcomes.append("refused")
        except TooManyAttempts:
            outcomes.append("throttled")
    assert outcomes == ["refused"] * 3 + ["throttled"] * 5
    with pytest.raises(TooManyAttempts):  # even the right code, from yet another address
        checks.check("alice", pyotp.TOTP(secret).now(), "203.0.113.99")


# --- look-alikes ----------------------------------------------------------------------------------


def test_codes_in_other_scripts_digits_or_with_odd_spacing_are_refused_not_crashed_on():
    secret = new_secret()
    good = pyotp.TOTP(secret).now()
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in good)
    arabic = "".join(chr(0x0660 + int(d)) for d in good)
    for code in (fullwidth, arabic, good + "\x00", "\u00a0" + good, good[:3] + "\t" + good[3:], "+" + good[1:],
                 "-" + good[1:], good + "0", "", " " * 6, "1e5000"):
        assert accepted_step(secret, code, last_step=None) is None, repr(code)
    assert accepted_step(secret, good[:3] + " " + good[3:], last_step=None) is not None


def test_recovery_codes_in_look_alike_letters_are_refused():
    account = recovery.with_codes(LocalAccount("alice", "h"), ["kkkk-mmmm-nnnn-pppp"])
    assert recovery.consumed(account, "ｋｋｋｋ-ｍｍｍｍ-ｎｎｎｎ-ｐｐｐｐ") is None
    assert recovery.consumed(account, "KKKK MMMM NNNN PPPP") is not None


# --- messages -------------------------------------------------------------------------------------


def test_crlf_in_a_name_or_the_app_name_injects_no_header():
    message = invitation_message(sender="app@example.org", to="eve@example.org", link="https://app.example.org/x",
                                 app_name="App\r\nBcc: spy@evil.example", name="Eve\r\nBcc: spy@evil.example")
    assert message["Bcc"] is None and "\n" not in message["Subject"]
    head = message.as_string().split("\n\n", 1)[0]
    assert not any(line.lower().startswith("bcc") for line in head.splitlines())
    reset = password_reset_message(sender="app@example.org", to="eve@example.org", link="https://app.example.org/x",
                                   app_name="App\nBcc: spy@evil.example")
    assert reset["Bcc"] is None
    for to in ("eve@example.org\r\nBcc: spy@evil.example", "Eve <eve@example.org>", "a@b.c, spy@evil.example"):
        with pytest.raises(ValueError):
            invitation_message(sender="app@example.org", to=to, link="https://app.example.org/x", app_name="App")
    with pytest.raises(ValueError):
        invitation_message(sender="app@example.org", to="eve@example.org", app_name="App",
                           link="https://app.example.org/x\r\nBcc: spy@evil.example")


# --- the second step is bound to the password it checked ------------------------------------------


def test_the_first_factor_carries_the_password_it_checked_and_the_step_keeps_it(users):
    service = SignInService(ServerConfig(users_file=users.path, cookie_secrets=SECRETS), store=MemoryStore())
    first = service.password_login("alice", "alice-password", "203.0.113.7", "/", {}, None, secure=False, path="/",
                                   second_step=True)
    assert isinstance(first, LocalFirstFactor)
    assert first.credential == credential_fingerprint(users.accounts()["alice"].password_hash)
    steps = PendingSteps(MemoryStore(), SECRETS)
    cookie = steps.begin("alice", "/", enrol=False, browser="b", credential=first.credential)
    found = steps.find(cookie, "b")
    assert found is not None and found.step.credential == first.credential
    assert first.credential not in cookie  # only sealed
