"""TOTP (core.accounts.totp, core.accounts.second_factor): RFC 6238 codes, ±1 step, single use."""

from __future__ import annotations

import base64
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

from stauth_server.core.accounts import totp
from stauth_server.core.accounts.secret_box import SecretBox
from stauth_server.core.accounts.second_factor import (SecondFactorError, enrol_totp, second_factor_required,
                                                       verify_second_factor, without_second_factor)
from stauth_server.core.sources.local import UsersFile

OTHER_COOKIE_SECRET = "another-apps-cookie-secret-of-32-characters-03"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = 1_764_460_815.0  # 15 s into a 30 s step


def code_at(moment: float, secret: str = SECRET) -> str:
    return pyotp.TOTP(secret).at(moment)


def enrolled(users: UsersFile, box: SecretBox, now: float = NOW - 300) -> list[str]:
    codes = enrol_totp(users, "alice", secret=SECRET, code=code_at(now), box=box, now=now)
    assert codes is not None
    return codes


def test_rfc_6238_test_vector():
    # RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits); its last 6 digits with 6-digit codes
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp.accepted_step(secret, "287082", last_step=None, now=59) == 1


def test_a_new_secret_has_160_bits_and_differs_each_time():
    first, second = totp.new_secret(), totp.new_secret()
    assert len(first) == 32 and first != second and len(base64.b32decode(first)) == 20


def test_the_otpauth_uri_names_the_issuer_and_the_account():
    uri = totp.otpauth_uri(SECRET, account_name="alice@example.org", issuer="Team Dashboard")
    parts = urlsplit(uri)
    query = parse_qs(parts.query)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    assert query["secret"] == [SECRET] and query["issuer"] == ["Team Dashboard"]
    assert "alice%40example.org" in parts.path and parts.path.startswith("/Team%20Dashboard:")


@pytest.mark.parametrize("offset", [-30, 0, 30])
def test_a_code_of_this_step_or_the_next_or_previous_one_is_accepted(offset):
    assert totp.accepted_step(SECRET, code_at(NOW + offset), last_step=None, now=NOW) == int((NOW + offset) // 30)


@pytest.mark.parametrize("offset", [-60, 60, -3600])
def test_a_code_two_steps_away_or_more_is_refused(offset):
    assert totp.accepted_step(SECRET, code_at(NOW + offset), last_step=None, now=NOW) is None


@pytest.mark.parametrize("code", ["", "12345", "1234567", "12a456", "١٢٣٤٥٦", "123456\n", "-12345"])
def test_anything_but_six_digits_is_refused(code):
    assert totp.accepted_step(SECRET, code, last_step=None, now=NOW) is None


def test_spaces_in_a_typed_code_are_ignored():
    code = code_at(NOW)
    assert totp.accepted_step(SECRET, f"{code[:3]} {code[3:]}", last_step=None, now=NOW) is not None


def test_a_code_of_another_secret_is_refused():
    assert totp.accepted_step(SECRET, code_at(NOW, totp.new_secret()), last_step=None, now=NOW) is None


def test_enrolment_needs_a_right_code_and_stores_only_the_sealed_secret(users, box):
    assert enrol_totp(users, "alice", secret=SECRET, code=code_at(NOW - 120), box=box, now=NOW) is None
    assert not UsersFile(users.path).accounts()["alice"].has_second_factor
    codes = enrolled(users, box, NOW)
    alice = UsersFile(users.path).accounts()["alice"]
    assert len(codes) == 10 and len(set(codes)) == 10 and len(alice.recovery_codes) == 10
    assert alice.has_second_factor and box.open("alice", alice.totp_secret) == SECRET
    assert SECRET not in users.path.read_text(encoding="utf-8")
    assert not any(code in users.path.read_text(encoding="utf-8") for code in codes)


def test_enrolling_over_an_existing_second_factor_is_refused(users, box):
    enrolled(users, box)
    with pytest.raises(SecondFactorError, match="already has a second factor"):
        enrol_totp(users, "alice", secret=SECRET, code=code_at(NOW), box=box, now=NOW)


def test_the_enrolment_code_cannot_be_replayed_at_sign_in(users, box):
    enrol_totp(users, "alice", secret=SECRET, code=code_at(NOW), box=box, now=NOW)
    assert verify_second_factor(users, "alice", code_at(NOW), box, now=NOW + 10) is None


def test_a_code_works_at_sign_in(users, box):
    enrolled(users, box)
    assert verify_second_factor(users, "alice", code_at(NOW), box, now=NOW) == "totp"


def test_a_replayed_code_is_refused(users, box):
    enrolled(users, box)
    code = code_at(NOW)
    assert verify_second_factor(users, "alice", code, box, now=NOW) == "totp"
    assert verify_second_factor(users, "alice", code, box, now=NOW + 5) is None
    assert verify_second_factor(UsersFile(users.path), "alice", code, box, now=NOW + 29) is None  # another process


def test_an_older_code_is_refused_once_a_newer_one_was_used(users, box):
    enrolled(users, box)
    assert verify_second_factor(users, "alice", code_at(NOW + 30), box, now=NOW) == "totp"
    assert verify_second_factor(users, "alice", code_at(NOW), box, now=NOW) is None


def test_a_code_from_two_windows_ago_is_refused(users, box):
    enrolled(users, box)
    assert verify_second_factor(users, "alice", code_at(NOW - 60), box, now=NOW) is None


def test_the_next_code_works_after_one_was_used(users, box):
    enrolled(users, box)
    assert verify_second_factor(users, "alice", code_at(NOW), box, now=NOW) == "totp"
    assert verify_second_factor(users, "alice", code_at(NOW + 30), box, now=NOW + 30) == "totp"


def test_an_account_without_a_second_factor_or_unknown_accepts_no_code(users, box):
    assert verify_second_factor(users, "bob", code_at(NOW), box, now=NOW) is None
    assert verify_second_factor(users, "mallory", code_at(NOW), box, now=NOW) is None


def test_a_secret_that_does_not_open_with_the_configured_keys_refuses_every_code(users, box, caplog):
    enrolled(users, box)
    stranger = SecretBox([OTHER_COOKIE_SECRET])
    assert verify_second_factor(users, "alice", code_at(NOW), stranger, now=NOW) is None
    assert "does not open" in caplog.text and SECRET not in caplog.text


def test_a_secret_sealed_for_another_account_refuses_every_code(users, box):
    enrolled(users, box)
    users.update(lambda accounts: accounts.update(
        bob=replace(accounts["bob"], totp_secret=accounts["alice"].totp_secret)))
    assert verify_second_factor(users, "bob", code_at(NOW), box, now=NOW) is None


def test_an_administrator_reset_removes_the_secret_and_the_recovery_codes(users, box):
    enrolled(users, box)
    users.update(lambda accounts: accounts.update(alice=without_second_factor(accounts["alice"])))
    alice = UsersFile(users.path).accounts()["alice"]
    assert not alice.has_second_factor and alice.recovery_codes == () and alice.totp_last_step is None


@pytest.mark.parametrize("rule, roles, required", [
    (False, ("admin",), False), (True, (), True), (("admin",), ("admin", "ops"), True), (("admin",), ("ops",), False),
])
def test_require_second_factor_applies_to_everyone_or_to_the_listed_roles(rule, roles, required):
    assert second_factor_required(rule, roles) is required


@pytest.mark.parametrize("secret", ["not base32!!", "JBSWY3DPEHPK3PXP", "jbswy3dpehpk3pxpjbswy3dpehpk3pxp",
                                    SECRET + "=", "", "A" * 1000])
def test_enrolling_a_malformed_or_short_secret_is_refused_without_a_crash(users, box, secret):
    with pytest.raises(SecondFactorError, match="not a TOTP secret"):
        enrol_totp(users, "alice", secret=secret, code="123456", box=box, now=NOW)
    assert totp.accepted_step(secret, "123456", last_step=None, now=NOW) is None
    assert not UsersFile(users.path).accounts()["alice"].has_second_factor
