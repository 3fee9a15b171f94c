"""Concurrent writers of one users file both keep their change (UsersFile.update's file lock)."""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
import time
from dataclasses import replace
from pathlib import Path


from stauth_server.cli import main as cli
from stauth_server.core.accounts import recovery
from stauth_server.core.accounts.second_factor import verify_second_factor
from stauth_server.core.sources.local import LocalAccount, UsersFile

ROUNDS = 15


def add_accounts(path: str, prefix: str) -> None:
    """A writer: add PREFIX0..PREFIXn one update at a time, pausing inside the read-modify-write."""
    store = UsersFile(Path(path))
    for index in range(ROUNDS):
        def change(accounts, name=f"{prefix}{index}"):
            time.sleep(0.002)  # widens the window a lost update would need
            accounts[name] = LocalAccount(name, "h")
        store.update(change)


def test_two_processes_adding_accounts_at_once_both_keep_every_change(users):
    fork = multiprocessing.get_context("fork")
    writers = [fork.Process(target=add_accounts, args=(str(users.path), prefix)) for prefix in ("web", "cli")]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
    assert [writer.exitcode for writer in writers] == [0, 0]
    names = set(UsersFile(users.path).accounts())
    assert names == {"alice", "bob"} | {f"{p}{i}" for p in ("web", "cli") for i in range(ROUNDS)}


def test_two_threads_adding_accounts_at_once_both_keep_every_change(users):
    threads = [threading.Thread(target=add_accounts, args=(str(users.path), prefix)) for prefix in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(UsersFile(users.path).accounts()) == 2 + 2 * ROUNDS


def test_without_the_lock_the_same_race_loses_changes(users, monkeypatch):
    """The race above is real: with the lock taken away, changes get lost."""
    monkeypatch.setattr(UsersFile, "_exclusive", lambda self: contextlib.nullcontext())
    threads = [threading.Thread(target=add_accounts, args=(str(users.path), prefix)) for prefix in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(UsersFile(users.path).accounts()) < 2 + 2 * ROUNDS


def cli_sets_roles(path: str, folder: str) -> None:
    """An administrator running ``streamlit-auth users roles`` again and again."""
    import os
    os.chdir(folder)
    for index in range(ROUNDS):
        cli(["users", "roles", path, "bob", "--role", f"r{index}"], standalone_mode=False)


def test_a_cli_change_and_a_web_change_at_the_same_moment_both_survive(users, box, tmp_path):
    codes = recovery.new_codes()
    users.update(lambda accounts: accounts.update(
        alice=recovery.with_codes(replace(accounts["alice"], totp_secret=box.seal("alice", "JBSWY3DPEHPK3PXP")),
                                  codes)))
    fork = multiprocessing.get_context("fork")
    admin = fork.Process(target=cli_sets_roles, args=(str(users.path), str(tmp_path)))
    admin.start()
    used = [verify_second_factor(users, "alice", code, box) for code in codes]  # the web side, meanwhile
    admin.join(60)
    assert admin.exitcode == 0
    accounts = UsersFile(users.path).accounts()
    assert used == ["recovery"] * len(codes) and accounts["alice"].recovery_codes == ()
    assert accounts["bob"].roles == (f"r{ROUNDS - 1}",)


def test_one_recovery_code_raced_by_many_requests_works_once(users, box):
    attempts = 8
    codes = recovery.new_codes()
    users.update(lambda accounts: accounts.update(
        alice=recovery.with_codes(replace(accounts["alice"], totp_secret=box.seal("alice", "JBSWY3DPEHPK3PXP")),
                                  codes)))
    results: list[str | None] = []
    barrier = threading.Barrier(attempts)

    def attempt():
        barrier.wait()
        results.append(verify_second_factor(UsersFile(users.path), "alice", codes[0], box))

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == attempts and results.count("recovery") == 1 and results.count(None) == attempts - 1
