"""The users file's per-user second-factor, passkey and link fields (core.sources.local)."""

from __future__ import annotations

import re
import stat
from dataclasses import replace

import pytest

from stauth_server.core.sources.local import (LocalAccount, OneTimeToken, Passkey, UsersFile, UsersFileError,
                                              render)

HASH = "ab" * 32
FULL = LocalAccount(
    "alice", "$argon2id$unused", "alice@example.org", "Alice \"A\" Example", ("admin", "ops"), False,
    totp_secret="gAAAAAsealed", totp_last_step=58838612, recovery_codes=(HASH, "cd" * 32),
    passkeys=(Passkey("Y3JlZC0x", "pQECAyYgASFYIA", 7, "laptop \"work\"", 1764460800),
              Passkey("Y3JlZC0y", "pQECAyYgASFYIB", 0, "phone", 1764460900)),
    one_time_tokens=(OneTimeToken(HASH, "reset", 1764462600.0, "f" * 32),
                     OneTimeToken("cd" * 32, "invite", 1764462600.5, "e" * 32)),
)


def write(path, text: str) -> UsersFile:
    path.write_text(text, encoding="utf-8")
    return UsersFile(path)


def test_every_new_field_survives_a_write_and_a_read(users_path):
    store = UsersFile(users_path)
    store.save([FULL, LocalAccount("bob", "$argon2id$bob")])
    assert UsersFile(users_path).accounts() == {"alice": FULL, "bob": LocalAccount("bob", "$argon2id$bob")}


def test_a_file_written_before_the_new_fields_still_reads(users_path):
    store = write(users_path, '[users.alice]\npassword_hash = "$argon2id$x"\nemail = "a@example.org"\n'
                              'roles = ["admin"]\ndisabled = false\n')
    alice = store.accounts()["alice"]
    assert alice == LocalAccount("alice", "$argon2id$x", "a@example.org", None, ("admin",))
    assert not alice.has_second_factor and alice.passkeys == () and alice.one_time_tokens == ()


def test_an_account_without_the_new_fields_is_written_as_before(users_path):
    text = render([LocalAccount("bob", "$argon2id$bob")])
    assert "totp" not in text and "passkeys" not in text and "recovery" not in text


def test_passkeys_may_also_be_written_as_tables_of_their_own(users_path):
    store = write(users_path, '[users.alice]\npassword_hash = "h"\n\n[[users.alice.passkeys]]\nid = "aWQ"\n'
                              'public_key = "cGs"\nsign_count = 2\nname = "key"\ncreated = 1\n')
    assert store.accounts()["alice"].passkeys == (Passkey("aWQ", "cGs", 2, "key", 1),)


def test_an_unknown_key_of_a_newer_version_is_refused_naming_the_entry(users_path):
    store = write(users_path, '[users.alice]\npassword_hash = "h"\nwebauthn_v9 = "?"\n')
    with pytest.raises(UsersFileError, match=r"\[users\.alice\]: unknown key 'webauthn_v9'"):
        store.accounts()


@pytest.mark.parametrize("entry, message", [
    ('totp_secret = 5', "totp_secret must be a string"),
    ('totp_last_step = -1', "totp_last_step must be a non-negative integer"),
    ('totp_last_step = true', "totp_last_step must be a non-negative integer"),
    ('recovery_codes = ["not-a-hash"]', "recovery_codes: expected a list of SHA-256 hex digests"),
    ('recovery_codes = "abc"', "recovery_codes: expected a list of SHA-256 hex digests"),
    ('passkeys = "x"', "passkeys: expected a list of tables"),
    ('passkeys = [{id = "a", public_key = "b", sign_count = 0, name = "n"}]', r"passkeys\[0\]: created missing"),
    ('passkeys = [{id = "a", public_key = "b", sign_count = -3, name = "n", created = 1}]',
     r"passkeys\[0\]: sign_count must be a non-negative integer"),
    ('passkeys = [{id = "", public_key = "b", sign_count = 0, name = "n", created = 1}]',
     r"passkeys\[0\]: id must be a non-empty string"),
    ('passkeys = [{id = "a", public_key = "b", sign_count = 0, name = "n", created = 1, aaguid = "x"}]',
     r"passkeys\[0\]: unknown key 'aaguid'"),
    ('passkeys = [{id = "a", public_key = "b", sign_count = 0, name = "n", created = 1}, '
     '{id = "a", public_key = "c", sign_count = 0, name = "m", created = 1}]', r"passkeys\[1\]: a second passkey"),
    (f'one_time_tokens = [{{hash = "{HASH}", purpose = "reset", expires_at = "soon", password_fingerprint = "f"}}]',
     r"one_time_tokens\[0\]: expires_at must be a Unix time"),
    ('one_time_tokens = [{hash = "plain-token", purpose = "reset", expires_at = 1, password_fingerprint = "f"}]',
     r"one_time_tokens\[0\]: hash must be a SHA-256 hex digest"),
])
def test_a_malformed_entry_is_refused_naming_the_entry(users_path, entry, message):
    store = write(users_path, f'[users.bob]\npassword_hash = "h"\n\n[users.alice]\npassword_hash = "h"\n{entry}\n')
    with pytest.raises(UsersFileError) as caught:
        store.accounts()
    assert str(users_path) in str(caught.value) and "[users.alice]" in str(caught.value)
    assert re.search(message, str(caught.value)), str(caught.value)


def test_update_changes_one_account_and_keeps_the_rest(users):
    users.update(lambda accounts: accounts.update(alice=replace(accounts["alice"], totp_last_step=5)))
    accounts = UsersFile(users.path).accounts()
    assert accounts["alice"].totp_last_step == 5 and accounts["bob"] == LocalAccount("bob", "$argon2id$unused")


def test_update_returns_what_the_change_returns(users):
    assert users.update(lambda accounts: sorted(accounts)) == ["alice", "bob"]


def test_an_update_that_changes_nothing_does_not_rewrite_the_file(users):
    before = users.path.stat().st_ino
    users.update(lambda accounts: None)
    assert users.path.stat().st_ino == before


def test_an_update_that_raises_writes_nothing(users):
    text = users.path.read_text(encoding="utf-8")

    def change(accounts):
        accounts.clear()
        raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError):
        users.update(change)
    assert users.path.read_text(encoding="utf-8") == text


def test_updates_keep_the_file_and_its_lock_owner_only(users):
    users.path.chmod(0o644)
    users.update(lambda accounts: accounts.pop("bob"))
    lock = users.path.with_name(f".{users.path.name}.lock")
    assert stat.S_IMODE(users.path.stat().st_mode) == 0o600 and stat.S_IMODE(lock.stat().st_mode) == 0o600


def test_update_of_a_missing_file_creates_it_only_when_an_account_is_added(users_path):
    store = UsersFile(users_path)
    store.update(lambda accounts: None)
    assert not users_path.exists()
    store.update(lambda accounts: accounts.update(carol=LocalAccount("carol", "h")))
    assert list(UsersFile(users_path).accounts()) == ["carol"]


def test_update_refuses_a_malformed_file_and_leaves_it_alone(users_path):
    store = write(users_path, '[users.alice]\npassword_hash = "h"\nfuture = 1\n')
    with pytest.raises(UsersFileError, match=r"\[users\.alice\]"):
        store.update(lambda accounts: accounts.clear())
    assert "future = 1" in users_path.read_text(encoding="utf-8")
