"""``streamlit-auth tokens``: a personal API token is printed once, stored as a hash only,
listed without its secret, and revoked by id or name."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from stauth_server.cli.run import main
from stauth_server.core.api_tokens import find, token_hash
from stauth_server.core.sources.local import LocalAccount, UsersFile


@pytest.fixture
def users(tmp_path) -> UsersFile:
    users = UsersFile(tmp_path / "users.toml")
    users.save([LocalAccount("alice", "$argon2id$unused", "alice@example.org"),
                LocalAccount("bob", "$argon2id$unused", disabled=True)])
    return users


def tokens(*args: str):
    return CliRunner().invoke(main, ["tokens", *args])


def test_create_prints_the_token_once_and_stores_only_its_hash(users):
    result = tokens("create", str(users.path), "alice", "--name", "ci", "--expires", "30d")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("sat_") and len(token) >= 40
    text = users.path.read_text()
    assert token not in text and token_hash(token) in text
    record = find(users.api_tokens().values(), token)
    assert record is not None and record.name == "ci" and record.expires - record.created == 30 * 86400


def test_list_never_shows_a_token(users):
    token = tokens("create", str(users.path), "alice", "--name", "ci").stdout.strip()
    listed = tokens("list", str(users.path))
    assert listed.exit_code == 0 and "ci" in listed.output and "alice" in listed.output
    assert token not in listed.output and token_hash(token) not in listed.output


@pytest.mark.parametrize("by", ["name", "id"])
def test_revoke_by_name_or_id_removes_the_token(users, by):
    token = tokens("create", str(users.path), "alice", "--name", "ci").stdout.strip()
    record = find(users.api_tokens().values(), token)
    result = tokens("revoke", str(users.path), "alice", record.name if by == "name" else record.id)
    assert result.exit_code == 0, result.output
    assert find(users.api_tokens().values(), token) is None


def test_a_token_of_another_user_is_not_revoked(users):
    tokens("create", str(users.path), "alice", "--name", "ci")
    result = tokens("revoke", str(users.path), "bob", "ci")
    assert result.exit_code != 0 and len(users.api_tokens()) == 1


@pytest.mark.parametrize("args, message", [
    (["nobody"], "no user nobody"),
    (["bob"], "bob is disabled"),
    (["alice", "--expires", "soon"], "--expires"),
    (["alice", "--expires", "0d"], "--expires"),
])
def test_create_refuses_what_it_cannot_honour(users, args, message):
    result = tokens("create", str(users.path), *args)
    assert result.exit_code != 0 and message in result.output and not users.api_tokens()


def test_a_second_token_with_the_same_name_is_refused(users):
    tokens("create", str(users.path), "alice", "--name", "ci")
    result = tokens("create", str(users.path), "alice", "--name", "ci")
    assert result.exit_code != 0 and "already has a token named" in result.output


def test_never_expiring_tokens_are_possible_when_asked(users):
    token = tokens("create", str(users.path), "alice", "--expires", "never").stdout.strip()
    assert find(users.api_tokens().values(), token).expires is None


def test_users_commands_keep_the_tokens(users):
    token = tokens("create", str(users.path), "alice").stdout.strip()
    result = CliRunner().invoke(main, ["users", "disable", str(users.path), "alice"])
    assert result.exit_code == 0, result.output
    assert find(users.api_tokens().values(), token) is not None
