"""Local accounts: the users file and password checks (stauth_server.core.sources.local)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cheap_argon2 import use_cheap_hasher

from stauth_server.core.sources import local
from stauth_server.core.sources.local import (
    LocalAccount,
    UsersFile,
    UsersFileError,
    hash_password,
    render,
    valid_username,
    verify,
)


@pytest.fixture
def cheap(monkeypatch):
    return use_cheap_hasher(monkeypatch)


@pytest.fixture
def path(tmp_path) -> Path:
    return tmp_path / "users.toml"


def write(path: Path, text: str) -> UsersFile:
    path.write_text(text, encoding="utf-8")
    return UsersFile(path)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- the real hashing parameters --------------------------------------------------------

def test_hashes_are_argon2id_with_the_documented_parameters_and_verify(path):
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert "m=65536,t=3,p=4" in hashed
    users = UsersFile(path)
    users.save([LocalAccount("alice", hashed)])
    account = verify(users, "alice", "correct horse battery")
    assert account is not None and account.username == "alice"


# --- parsing --------------------------------------------------------------------------

def test_a_users_file_gives_its_accounts(path):
    users = write(path, """
[users.alice]
password_hash = "$argon2id$x"
email = "alice@example.org"
name = "Alice Example"
roles = ["admin", "editor"]
disabled = false

[users."bob@corp"]
password_hash = "$argon2id$y"
disabled = true
""")
    accounts = users.accounts()
    assert accounts["alice"] == LocalAccount("alice", "$argon2id$x", "alice@example.org", "Alice Example",
                                             ("admin", "editor"), False)
    assert accounts["bob@corp"] == LocalAccount("bob@corp", "$argon2id$y", None, None, (), True)


def test_an_empty_users_file_has_no_accounts(path):
    assert write(path, "").accounts() == {}


def test_empty_email_and_name_mean_none(path):
    account = write(path, '[users.a]\npassword_hash = "h"\nemail = ""\nname = ""\n').accounts()["a"]
    assert account.email is None and account.name is None


def test_a_missing_file_is_an_error_naming_it(path):
    with pytest.raises(UsersFileError) as caught:
        UsersFile(path).accounts()
    assert str(path) in str(caught.value) and "no such users file" in str(caught.value)


def test_invalid_toml_is_an_error_naming_the_file(path):
    with pytest.raises(UsersFileError) as caught:
        write(path, "[users.alice\npassword_hash = 1").accounts()
    assert str(caught.value).startswith(f"{path}: not valid TOML")


def test_users_that_are_not_tables_is_an_error_naming_the_file(path):
    with pytest.raises(UsersFileError, match=r"expected \[users\.NAME\] tables") as caught:
        write(path, "users = 3\n").accounts()
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("entry", ['email = "bob@example.org"', 'password_hash = 3'])
def test_an_entry_without_a_password_hash_is_an_error_naming_file_and_entry(path, entry):
    with pytest.raises(UsersFileError) as caught:
        write(path, f'[users.alice]\npassword_hash = "h"\n\n[users.bob]\n{entry}\n').accounts()
    assert str(caught.value) == f"{path} [users.bob]: password_hash missing"


def test_an_entry_that_is_not_a_table_is_an_error_naming_it(path):
    with pytest.raises(UsersFileError, match=r"\[users\.carol\]: password_hash missing"):
        write(path, '[users]\ncarol = "secret"\n').accounts()


def test_a_bad_username_is_an_error_naming_file_and_entry(path):
    with pytest.raises(UsersFileError) as caught:
        write(path, '[users."bad name"]\npassword_hash = "h"\n').accounts()
    assert str(caught.value).startswith(f"{path} [users.bad name]: usernames use")


@pytest.mark.parametrize("roles", ['"admin"', '["admin", 3]', "{ a = 1 }"])
def test_roles_that_are_not_a_list_of_strings_are_an_error_naming_the_entry(path, roles):
    with pytest.raises(UsersFileError) as caught:
        write(path, f'[users.alice]\npassword_hash = "h"\nroles = {roles}\n').accounts()
    assert str(caught.value) == f"{path} [users.alice]: roles must be a list of strings"


@pytest.mark.parametrize("field", ['email = 5', 'name = ["Alice"]'])
def test_an_email_or_name_that_is_not_a_string_is_an_error_naming_the_entry(path, field):
    with pytest.raises(UsersFileError) as caught:
        write(path, f'[users.alice]\npassword_hash = "h"\n{field}\n').accounts()
    assert f"{path} [users.alice]" in str(caught.value)


@pytest.mark.parametrize("username, ok", [
    ("alice", True), ("alice.smith-2_x", True), ("alice@example.org", True), ("a+b", True),
    ("a" * 128, True), ("", False), ("a" * 129, False), ("al ice", False), ("al/ice", False),
    ("al\nice", False), ("ålice", False), ('a"b', False),
])
def test_valid_usernames_are_letters_digits_and_a_few_marks(username, ok):
    assert valid_username(username) is ok


# --- re-reading -----------------------------------------------------------------------

def test_a_changed_file_is_read_again(path):
    users = UsersFile(path)
    users.save([LocalAccount("alice", "h1")])
    assert set(users.accounts()) == {"alice"}
    UsersFile(path).save([LocalAccount("alice", "h1"), LocalAccount("bob", "h2")])
    assert set(users.accounts()) == {"alice", "bob"}


def test_a_change_of_the_same_size_is_read_again(path):
    users = write(path, '[users.alice]\npassword_hash = "h1"\n')
    assert users.accounts()["alice"].password_hash == "h1"
    path.write_text('[users.alice]\npassword_hash = "h2"\n', encoding="utf-8")
    later = path.stat().st_mtime + 5
    os.utime(path, (later, later))
    assert users.accounts()["alice"].password_hash == "h2"


def test_an_unchanged_file_is_parsed_once(path, monkeypatch):
    users = write(path, '[users.alice]\npassword_hash = "h"\n')
    parses = []
    original = local._parse
    monkeypatch.setattr(local, "_parse", lambda p, t: parses.append(p) or original(p, t))
    for _ in range(3):
        users.accounts()
    assert parses == [path]


def test_changing_the_returned_accounts_does_not_change_the_cache(path):
    users = write(path, '[users.alice]\npassword_hash = "h"\n')
    users.accounts().pop("alice")
    assert "alice" in users.accounts()


def test_a_file_that_disappears_is_an_error_not_the_old_accounts(path):
    users = write(path, '[users.alice]\npassword_hash = "h"\n')
    users.accounts()
    path.unlink()
    with pytest.raises(UsersFileError, match="no such users file"):
        users.accounts()


# --- saving ---------------------------------------------------------------------------

def test_save_creates_an_owner_only_file(path):
    UsersFile(path).save([LocalAccount("alice", "h")])
    assert mode(path) == 0o600


def test_save_over_a_world_readable_file_leaves_it_owner_only(path):
    path.write_text("", encoding="utf-8")
    path.chmod(0o644)
    UsersFile(path).save([LocalAccount("alice", "h")])
    assert mode(path) == 0o600


def test_save_is_owner_only_even_when_a_stale_temporary_file_is_left_over(path):
    stale = path.with_name(f".{path.name}.tmp")
    stale.write_text("left over by a crashed save", encoding="utf-8")
    stale.chmod(0o644)
    UsersFile(path).save([LocalAccount("alice", "h")])
    assert mode(path) == 0o600


def test_save_leaves_no_temporary_file(path):
    UsersFile(path).save([LocalAccount("alice", "h")])
    # the lock file stays: removing it could let two writers hold two different locks
    assert sorted(p.name for p in path.parent.iterdir()) == [".users.toml.lock", "users.toml"]


def test_a_save_that_fails_midway_leaves_the_old_file_whole(path, monkeypatch):
    users = UsersFile(path)
    users.save([LocalAccount("alice", "h1")])
    before = path.read_text(encoding="utf-8")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(local.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        users.save([LocalAccount("alice", "h2"), LocalAccount("bob", "h3")])
    assert path.read_text(encoding="utf-8") == before


def test_saved_accounts_read_back_identically_even_with_awkward_text(path):
    accounts = [
        LocalAccount("zoe@example.org", "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA", "zoe+x@example.org",
                     'Zoë "Z" O\'Neil \\ \t tab', ("admin", 'quote"role', "ünï"), True),
        LocalAccount("alice", "h", None, None, (), False),
    ]
    users = UsersFile(path)
    users.save(accounts)
    assert users.accounts() == {a.username: a for a in accounts}


def test_the_file_lists_accounts_sorted_by_username():
    text = render([LocalAccount("zed", "h"), LocalAccount("alice", "h")])
    assert text.index('[users."alice"]') < text.index('[users."zed"]')


# --- verify ---------------------------------------------------------------------------

@pytest.fixture
def users(path, cheap) -> UsersFile:
    store = UsersFile(path)
    store.save([
        LocalAccount("alice", hash_password("alice-password"), "alice@example.org", "Alice", ("admin",)),
        LocalAccount("dave", hash_password("dave-password"), disabled=True),
    ])
    return store


def test_the_right_password_gives_the_account(users):
    account = verify(users, "alice", "alice-password")
    assert account is not None and account.roles == ("admin",)


def test_a_wrong_password_gives_none(users):
    assert verify(users, "alice", "alice-passwort") is None


def test_usernames_are_case_sensitive(users):
    assert verify(users, "Alice", "alice-password") is None


def test_an_unknown_user_gives_none(users):
    assert verify(users, "mallory", "alice-password") is None


def test_a_disabled_account_cannot_sign_in_with_its_right_password(users):
    assert verify(users, "dave", "dave-password") is None


def test_a_very_long_password_is_refused_without_error(users):
    assert verify(users, "alice", "x" * 100_000) is None


def test_a_corrupt_hash_in_the_file_refuses_instead_of_crashing(path, cheap):
    users = write(path, '[users.alice]\npassword_hash = "not-a-hash"\n')
    assert verify(users, "alice", "anything") is None


class CountingHasher:
    def __init__(self, inner):
        self.inner = inner
        self.verified: list[str] = []

    def verify(self, hashed, password):
        self.verified.append(hashed)
        return self.inner.verify(hashed, password)


@pytest.mark.parametrize("username, password", [
    ("alice", "alice-password"),    # right
    ("alice", "wrong-password"),    # wrong password
    ("mallory", "wrong-password"),  # unknown user
    ("bad name!", "whatever"),      # not even a valid username
    ("dave", "dave-password"),      # disabled
])
def test_every_attempt_verifies_exactly_one_hash(users, monkeypatch, username, password):
    counter = CountingHasher(local.HASHER)
    monkeypatch.setattr(local, "HASHER", counter)
    verify(users, username, password)
    assert len(counter.verified) == 1


def test_an_unknown_user_is_checked_against_the_dummy_hash(users, monkeypatch):
    counter = CountingHasher(local.HASHER)
    monkeypatch.setattr(local, "HASHER", counter)
    assert verify(users, "mallory", "x") is None
    assert counter.verified == [local._DUMMY_HASH]


def test_the_dummy_hash_uses_the_same_parameters_as_real_hashes(users):
    params = lambda h: h.split("$")[3]  # noqa: E731 - "m=...,t=...,p=..."
    assert params(local._DUMMY_HASH) == params(users.accounts()["alice"].password_hash)


def test_the_real_dummy_hash_is_argon2id_with_the_real_parameters():
    assert local._DUMMY_HASH.startswith("$argon2id$") and "m=65536,t=3,p=4" in local._DUMMY_HASH


# --- claims ---------------------------------------------------------------------------

def test_an_account_with_an_email_claims_it_verified():
    claims = LocalAccount("alice", "h", "alice@example.org", "Alice").claims()
    assert claims == {"sub": "alice", "preferred_username": "alice", "name": "Alice",
                      "email": "alice@example.org", "email_verified": True}


def test_an_account_without_name_or_email_is_named_by_its_username():
    assert LocalAccount("bob", "h").claims() == {"sub": "bob", "preferred_username": "bob", "name": "bob"}
