"""`streamlit-auth users ...`: managing a local users file (stauth_server.cli.users)."""

from __future__ import annotations

import stat
from pathlib import Path

import click
import pytest
from cheap_argon2 import use_cheap_hasher
from click.testing import CliRunner

from stauth_server.cli import main
from stauth_server.core.sources.local import UsersFile, verify
from stauth_server.cli.users import users as users_group


@pytest.fixture(autouse=True)
def cheap(monkeypatch):
    return use_cheap_hasher(monkeypatch)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def path(tmp_path) -> Path:
    return tmp_path / "users.toml"


def run(runner: CliRunner, *args: str, input: str | None = None):
    return runner.invoke(main, ["users", *args], input=input)


def add(runner, path, username="alice", password="alice-password", *extra):
    return run(runner, "add", str(path), username, "--password-stdin", *extra, input=password + "\n")


def test_add_with_password_stdin_creates_the_file_with_the_account(runner, path):
    result = add(runner, path, "alice", "alice-password", "--email", "alice@example.org", "--name", "Alice Example",
                 "--role", "admin", "--role", "editor")
    assert result.exit_code == 0, result.output
    assert "added alice" in result.output
    account = UsersFile(path).accounts()["alice"]
    assert (account.email, account.name, account.roles, account.disabled) == (
        "alice@example.org", "Alice Example", ("admin", "editor"), False)
    assert verify(UsersFile(path), "alice", "alice-password") is not None


def test_the_new_file_is_owner_only(runner, path):
    add(runner, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_file_holds_a_hash_not_the_password(runner, path):
    add(runner, path, "alice", "alice-password")
    text = path.read_text(encoding="utf-8")
    assert "alice-password" not in text
    assert "$argon2id$" in text


def test_add_keeps_the_accounts_already_there(runner, path):
    add(runner, path, "alice", "alice-password")
    add(runner, path, "bob", "bob-password")
    assert set(UsersFile(path).accounts()) == {"alice", "bob"}
    assert verify(UsersFile(path), "alice", "alice-password") is not None


def test_a_password_from_the_prompt_must_be_typed_twice(runner, path):
    result = run(runner, "add", str(path), "alice", input="prompted-password\nprompted-password\n")
    assert result.exit_code == 0, result.output
    assert verify(UsersFile(path), "alice", "prompted-password") is not None
    assert "prompted-password" not in result.output  # hidden input is not echoed


def test_a_trailing_carriage_return_is_not_part_of_the_password(runner, path):
    add(runner, path, "alice", "alice-password\r")
    assert verify(UsersFile(path), "alice", "alice-password") is not None


def test_adding_an_existing_user_is_refused_and_the_file_unchanged(runner, path):
    add(runner, path, "alice", "alice-password")
    before = path.read_text(encoding="utf-8")
    result = add(runner, path, "alice", "another-password")
    assert result.exit_code != 0
    assert "alice already exists" in result.output
    assert path.read_text(encoding="utf-8") == before


def test_a_short_password_is_refused_and_nothing_written(runner, path):
    result = add(runner, path, "alice", "short")
    assert result.exit_code != 0
    assert "at least 8 characters" in result.output
    assert not path.exists()


def test_an_invalid_username_is_refused(runner, path):
    result = add(runner, path, "bad name", "alice-password")
    assert result.exit_code != 0
    assert "usernames use" in result.output
    assert not path.exists()


def test_add_to_a_malformed_file_is_refused_naming_the_file(runner, path):
    path.write_text("[users.x\n", encoding="utf-8")
    result = add(runner, path)
    assert result.exit_code != 0
    assert str(path) in result.output and "not valid TOML" in result.output
    assert path.read_text(encoding="utf-8") == "[users.x\n"


def test_passwd_changes_only_the_password(runner, path):
    add(runner, path, "alice", "old-password", "--email", "alice@example.org", "--role", "admin")
    result = run(runner, "passwd", str(path), "alice", "--password-stdin", input="new-password\n")
    assert result.exit_code == 0, result.output
    users = UsersFile(path)
    assert verify(users, "alice", "old-password") is None
    account = verify(users, "alice", "new-password")
    assert account is not None
    assert (account.email, account.roles) == ("alice@example.org", ("admin",))


def test_passwd_refuses_a_short_password_and_keeps_the_old_one(runner, path):
    add(runner, path, "alice", "old-password")
    result = run(runner, "passwd", str(path), "alice", "--password-stdin", input="short\n")
    assert result.exit_code != 0
    assert verify(UsersFile(path), "alice", "old-password") is not None


def test_passwd_of_an_unknown_user_is_an_error(runner, path):
    add(runner, path)
    result = run(runner, "passwd", str(path), "mallory", "--password-stdin", input="new-password\n")
    assert result.exit_code != 0
    assert "no user mallory" in result.output


@pytest.mark.parametrize("command", ["passwd", "disable"])
def test_commands_on_a_missing_file_are_an_error_and_create_nothing(runner, path, command):
    extra = ["--password-stdin"] if command == "passwd" else []
    result = run(runner, command, str(path), "alice", *extra, input="new-password\n")
    assert result.exit_code != 0
    assert "no such users file" in result.output
    assert not path.exists()


def test_list_of_a_missing_file_is_an_error(runner, path):
    result = run(runner, "list", str(path))
    assert result.exit_code != 0 and "no such users file" in result.output


def test_disable_stops_the_account_signing_in_and_keeps_it(runner, path):
    add(runner, path, "alice", "alice-password", "--role", "admin")
    result = run(runner, "disable", str(path), "alice")
    assert result.exit_code == 0, result.output
    account = UsersFile(path).accounts()["alice"]
    assert account.disabled and account.roles == ("admin",)
    assert verify(UsersFile(path), "alice", "alice-password") is None


def test_passwd_does_not_re_enable_a_disabled_account(runner, path):
    add(runner, path)
    run(runner, "disable", str(path), "alice")
    run(runner, "passwd", str(path), "alice", "--password-stdin", input="new-password\n")
    assert UsersFile(path).accounts()["alice"].disabled


def test_disable_of_an_unknown_user_is_an_error(runner, path):
    add(runner, path)
    result = run(runner, "disable", str(path), "mallory")
    assert result.exit_code != 0 and "no user mallory" in result.output


def test_list_shows_every_account_and_no_hash(runner, path):
    add(runner, path, "bob", "bob-password")
    add(runner, path, "alice", "alice-password", "--email", "alice@example.org", "--role", "admin", "--role", "ops")
    run(runner, "disable", str(path), "bob")
    result = run(runner, "list", str(path))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "alice\talice@example.org\tadmin,ops\tactive\t2fa:-\tpasskeys:0",
        "bob\t-\t-\tdisabled\t2fa:-\tpasskeys:0",
    ]
    assert "argon2" not in result.output and "$" not in result.output


def test_a_password_option_does_not_exist(runner, path):
    result = run(runner, "add", str(path), "alice", "--password", "alice-password")
    assert result.exit_code == 2
    assert "No such option" in result.output
    assert not path.exists()


def test_a_password_given_as_an_extra_argument_is_refused(runner, path):
    result = run(runner, "add", str(path), "alice", "alice-password", "--password-stdin", input="x\n")
    assert result.exit_code == 2
    assert not path.exists()


def test_no_users_command_takes_a_password_value_on_the_command_line():
    for name, command in users_group.commands.items():
        for param in command.params:
            if "password" in param.name:
                assert isinstance(param, click.Option) and param.is_flag, (name, param.name)


def test_users_is_wired_into_the_streamlit_auth_command():
    assert main.commands["users"] is users_group
    assert {"add", "passwd", "disable", "list"} <= set(users_group.commands)
