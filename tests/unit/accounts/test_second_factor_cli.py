"""`streamlit-auth users list / reset-2fa / passkeys remove` (stauth_server.cli.users)."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

import pytest
from click.testing import CliRunner

from stauth_server.cli import main
from stauth_server.core.accounts import recovery
from stauth_server.core.sources.local import Passkey, UsersFile

LAPTOP = Passkey("Y3JlZC0x", "cGstMQ", 3, "laptop", 1764460800)
PHONE = Passkey("Y3JlZC0y", "cGstMg", 0, "phone", 1764460900)


@pytest.fixture(autouse=True)
def elsewhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no app's .streamlit/secrets.toml around


@pytest.fixture
def events(caplog):
    caplog.set_level(logging.INFO, logger="stauth.audit")
    return lambda: [json.loads(r.getMessage()) for r in caplog.records if r.name == "stauth.audit"]


@pytest.fixture
def enrolled(users, box):
    users.update(lambda accounts: accounts.update(alice=recovery.with_codes(
        replace(accounts["alice"], totp_secret=box.seal("alice", "JBSWY3DPEHPK3PXP"), totp_last_step=9,
                passkeys=(LAPTOP, PHONE)), recovery.new_codes())))
    return users


def run(*args: str):
    return CliRunner().invoke(main, ["users", *args])


def test_list_shows_who_has_a_second_factor_and_how_many_passkeys(enrolled):
    result = run("list", str(enrolled.path))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["alice\talice@example.org\tadmin\tactive\t2fa:totp\tpasskeys:2",
                                          "bob\t-\t-\tactive\t2fa:-\tpasskeys:0"]
    assert "gAAAA" not in result.output


def test_reset_2fa_removes_the_secret_and_the_recovery_codes_and_keeps_the_rest(enrolled, events):
    result = run("reset-2fa", str(enrolled.path), "alice")
    assert result.exit_code == 0 and "second factor of alice removed" in result.output
    alice = UsersFile(enrolled.path).accounts()["alice"]
    assert not alice.has_second_factor and alice.recovery_codes == () and alice.passkeys == (LAPTOP, PHONE)
    assert alice.roles == ("admin",) and alice.email == "alice@example.org"
    [event] = events()
    assert event["event"] == "second_factor_reset" and event["username"] == "alice"
    assert "gAAAA" not in json.dumps(event)


def test_reset_2fa_of_an_account_without_one_says_so(enrolled, events):
    result = run("reset-2fa", str(enrolled.path), "bob")
    assert result.exit_code == 0 and "bob had no second factor" in result.output and events() == []


def test_reset_2fa_of_an_unknown_user_is_an_error(enrolled):
    result = run("reset-2fa", str(enrolled.path), "mallory")
    assert result.exit_code != 0 and "no user mallory" in result.output


def test_passkeys_remove_by_name_keeps_the_others(enrolled, events):
    result = run("passkeys", "remove", str(enrolled.path), "alice", "laptop")
    assert result.exit_code == 0, result.output
    assert "removed 1 passkey of alice" in result.output
    assert UsersFile(enrolled.path).accounts()["alice"].passkeys == (PHONE,)
    [event] = events()
    assert event["event"] == "passkeys_removed" and event["names"] == ["laptop"]


def test_passkeys_remove_all(enrolled):
    result = run("passkeys", "remove", str(enrolled.path), "alice", "--all")
    assert result.exit_code == 0 and "removed 2 passkeys of alice" in result.output
    alice = UsersFile(enrolled.path).accounts()["alice"]
    assert alice.passkeys == () and alice.has_second_factor


def test_passkeys_remove_of_an_unknown_name_is_an_error_and_changes_nothing(enrolled):
    before = enrolled.path.read_text(encoding="utf-8")
    result = run("passkeys", "remove", str(enrolled.path), "alice", "desktop")
    assert result.exit_code != 0 and "no passkey named 'desktop'" in result.output
    assert enrolled.path.read_text(encoding="utf-8") == before


@pytest.mark.parametrize("extra", [[], ["laptop", "--all"]])
def test_passkeys_remove_needs_a_name_or_all_but_not_both(enrolled, extra):
    result = run("passkeys", "remove", str(enrolled.path), "alice", *extra)
    assert result.exit_code == 2 and "NAME or --all" in result.output


def test_passwd_ends_pending_one_time_links_and_keeps_the_second_factor(enrolled, cheap):
    from stauth_server.core.sources.local import OneTimeToken
    enrolled.update(lambda accounts: accounts.update(alice=replace(
        accounts["alice"], one_time_tokens=(OneTimeToken("ab" * 32, "reset", 2e9, "f" * 32),))))
    result = CliRunner().invoke(main, ["users", "passwd", str(enrolled.path), "alice", "--password-stdin"],
                                input="a-brand-new-password\n")
    assert result.exit_code == 0, result.output
    alice = UsersFile(enrolled.path).accounts()["alice"]
    assert alice.one_time_tokens == () and alice.has_second_factor and len(alice.passkeys) == 2


@pytest.mark.parametrize("password, reason", [("password1234", "most common"), ("alice", "at least 8"),
                                              ("alice@example.org", "username or e-mail")])
def test_add_refuses_weak_passwords(users, cheap, password, reason):
    result = CliRunner().invoke(main, ["users", "add", str(users.path), "alice@example.org", "--password-stdin"],
                                input=password + "\n")
    assert result.exit_code != 0 and reason in result.output


@pytest.fixture
def cheap(monkeypatch):
    from cheap_argon2 import use_cheap_hasher
    return use_cheap_hasher(monkeypatch)
