"""Fixtures for the local-account building blocks (core.accounts, the users file v2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stauth_server.core.accounts.secret_box import SecretBox
from stauth_server.core.sources.local import LocalAccount, UsersFile

SECRET = "a-cookie-secret-of-at-least-32-characters-0001"


@pytest.fixture
def users_path(tmp_path) -> Path:
    return tmp_path / "users.toml"


@pytest.fixture
def users(users_path) -> UsersFile:
    store = UsersFile(users_path)
    store.save([LocalAccount("alice", "$argon2id$unused", "alice@example.org", "Alice", ("admin",)),
                LocalAccount("bob", "$argon2id$unused")])
    return store


@pytest.fixture
def box() -> SecretBox:
    return SecretBox([SECRET])
