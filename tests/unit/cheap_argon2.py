"""Cheap argon2 parameters for tests that verify many passwords.

Real parameters (t=3, m=64 MiB, p=4) cost 100-300 ms per verify here. A verify uses the
parameters stored in the hash, so the dummy hash of unknown users is regenerated too.
"""

from __future__ import annotations

import argon2
import pytest

from stauth_server.core.sources import local


def cheap_hasher() -> argon2.PasswordHasher:
    return argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def use_cheap_hasher(monkeypatch: pytest.MonkeyPatch) -> argon2.PasswordHasher:
    hasher = cheap_hasher()
    monkeypatch.setattr(local, "HASHER", hasher)
    monkeypatch.setattr(local, "_DUMMY_HASH", hasher.hash("streamlit-auth: a password nobody has"))
    return hasher
