"""Recovery codes: ten single-use codes shown once, stored as SHA-256 hashes.

Each code carries 79 random bits (16 characters from a 31-letter alphabet without look-alike
characters such as 0/o and 1/l/i, shown as four groups of four). Guessing one is out of reach however fast the
hash, so a plain SHA-256 is enough, and it keeps checking a code cheap: a slow password hash
(argon2) tried against ten stored hashes would turn each attempt into ten argon2 runs, a
denial-of-service lever, while adding nothing against a 79-bit secret. Comparisons are
constant-time; a used code is removed from the account.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import replace

from ..sources.local import LocalAccount

COUNT = 10
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
GROUPS, GROUP_LENGTH = 4, 4


def new_codes(count: int = COUNT) -> list[str]:
    """Fresh codes to show the user once, like ``k7wq-2mfz-...``."""
    return ["-".join("".join(secrets.choice(ALPHABET) for _ in range(GROUP_LENGTH)) for _ in range(GROUPS))
            for _ in range(count)]


def normalize(code: str) -> str:
    """The code as hashed: lower case, without the dashes and spaces people type."""
    return "".join(c for c in code.lower() if c not in "- \t")


def hash_code(code: str) -> str:
    return hashlib.sha256(normalize(code).encode("utf-8")).hexdigest()


def with_codes(account: LocalAccount, codes: list[str]) -> LocalAccount:
    """``account`` holding the hashes of ``codes`` (replacing any earlier ones)."""
    return replace(account, recovery_codes=tuple(hash_code(code) for code in codes))


def consumed(account: LocalAccount, code: str) -> LocalAccount | None:
    """``account`` without ``code`` when it is one of its unused codes; None otherwise."""
    normalized = normalize(code)
    if len(normalized) != GROUPS * GROUP_LENGTH or not normalized.isascii():
        return None
    candidate = hash_code(normalized)
    match = None
    for stored in account.recovery_codes:  # every hash compared: the time says nothing about which matched
        if hmac.compare_digest(stored, candidate):
            match = stored
    if match is None:
        return None
    return replace(account, recovery_codes=tuple(h for h in account.recovery_codes if h != match))
