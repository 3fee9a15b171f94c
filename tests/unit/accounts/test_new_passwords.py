"""What a new password must be (core.accounts.passwords)."""

from __future__ import annotations

import pytest

from stauth_server.core.accounts.passwords import check_new_password, common_passwords


def test_a_long_uncommon_password_is_accepted():
    assert check_new_password("correct horse battery staple", username="alice", email="alice@example.org") is None


def test_a_password_shorter_than_the_minimum_is_refused():
    assert "at least 12 characters" in check_new_password("short-pass1")
    assert check_new_password("short-pass1", min_length=8) is None


def test_length_counts_characters_not_bytes():
    assert check_new_password("ééééééééééé", min_length=12) is not None
    assert check_new_password("éééééééééééé", min_length=12) is None


def test_an_absurdly_long_password_is_refused():
    assert "at most" in check_new_password("x" * 1025)


@pytest.mark.parametrize("password", ["password1234", "PASSWORD1234", "Qwertyuiop123", "iloveyou123", "1q2w3e4r5t6y"])
def test_a_common_password_is_refused_whatever_its_case(password):
    assert "most common" in check_new_password(password, min_length=8)


def test_the_built_in_list_has_a_few_hundred_passwords_in_lower_case():
    passwords = common_passwords()
    assert 200 <= len(passwords) <= 2000 and all(p == p.lower() for p in passwords)
    assert "password" + "123" in passwords


@pytest.mark.parametrize("password", ["alice.example.long", "ALICE.EXAMPLE.LONG", "alice@example.org",
                                      "Alice.Long.Name@Example.org"])
def test_the_username_or_email_is_refused_as_a_password(password):
    reason = check_new_password(password, username="alice.example.long", email="alice.long.name@example.org")
    if password == "alice@example.org":
        assert reason is None  # someone else's address is not a reason
    else:
        assert "username or e-mail" in reason


def test_the_local_part_of_the_email_is_refused_as_a_password():
    assert "username or e-mail" in check_new_password("alice.long.name", email="alice.long.name@example.org")
