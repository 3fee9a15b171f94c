"""Recovery codes (core.accounts.recovery): ten, shown once, stored hashed, each works once."""

from __future__ import annotations

from dataclasses import replace

import pytest

from stauth_server.core.accounts import recovery
from stauth_server.core.accounts.second_factor import verify_second_factor
from stauth_server.core.sources.local import LocalAccount, UsersFile

ALICE = LocalAccount("alice", "h")


def with_second_factor(users, box, codes):
    users.update(lambda accounts: accounts.update(
        alice=recovery.with_codes(replace(accounts["alice"], totp_secret=box.seal("alice", "JBSWY3DPEHPK3PXP")),
                                  codes)))


def test_ten_distinct_codes_of_four_groups_without_look_alike_characters():
    codes = recovery.new_codes()
    assert len(codes) == 10 and len(set(codes)) == 10
    for code in codes:
        groups = code.split("-")
        assert [len(g) for g in groups] == [4, 4, 4, 4]
        assert not set("".join(groups)) & set("01ilo")


def test_only_hashes_are_stored():
    codes = recovery.new_codes()
    account = recovery.with_codes(ALICE, codes)
    assert len(account.recovery_codes) == 10 and not set(codes) & set(account.recovery_codes)
    assert all(len(h) == 64 for h in account.recovery_codes)


def test_a_code_works_once(users, box):
    codes = recovery.new_codes()
    with_second_factor(users, box, codes)
    assert verify_second_factor(users, "alice", codes[3], box) == "recovery"
    assert verify_second_factor(users, "alice", codes[3], box) is None
    assert len(UsersFile(users.path).accounts()["alice"].recovery_codes) == 9


def test_the_other_codes_still_work_after_one_is_used(users, box):
    codes = recovery.new_codes()
    with_second_factor(users, box, codes)
    assert [verify_second_factor(users, "alice", code, box) for code in codes] == ["recovery"] * 10
    assert UsersFile(users.path).accounts()["alice"].recovery_codes == ()


@pytest.mark.parametrize("typed", [lambda c: c.upper(), lambda c: c.replace("-", ""), lambda c: c.replace("-", " "),
                                   lambda c: f"  {c} "])
def test_a_code_typed_in_capitals_or_without_dashes_works(typed):
    codes = recovery.new_codes()
    assert recovery.consumed(recovery.with_codes(ALICE, codes), typed(codes[0])) is not None


@pytest.mark.parametrize("attempt", ["", "abcd-efgh-jkmn-pqrs", "a" * 10_000, "é" * 16])
def test_a_wrong_or_absurd_code_is_refused(attempt):
    assert recovery.consumed(recovery.with_codes(ALICE, recovery.new_codes()), attempt) is None


def test_a_code_of_another_account_is_refused(users, box):
    codes = recovery.new_codes()
    with_second_factor(users, box, codes)
    users.update(lambda accounts: accounts.update(
        bob=recovery.with_codes(replace(accounts["bob"], totp_secret=box.seal("bob", "JBSWY3DPEHPK3PXP")),
                                recovery.new_codes())))
    assert verify_second_factor(users, "bob", codes[0], box) is None


def test_recovery_codes_still_work_when_the_totp_secret_does_not_open(users, box):
    from stauth_server.core.accounts.secret_box import SecretBox
    codes = recovery.new_codes()
    with_second_factor(users, box, codes)
    assert verify_second_factor(users, "alice", codes[0], SecretBox(["x" * 40])) == "recovery"
