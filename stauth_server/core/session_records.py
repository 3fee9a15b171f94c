"""A session's ticket and its record, encrypted at rest with a key only the cookie holds.

The browser's cookie carries a ``Ticket``: the session id, which finds the record, and a
per-session key, which unlocks it. The store keys records by a hash of the session id and
keeps them sealed with that key (Fernet: AES-128-CBC + HMAC-SHA256), so a dump of the store
shows no identity, claim or token, and cannot be turned into a working cookie. The server
record, not the cookie, is the identity.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography.fernet import Fernet, InvalidToken


@dataclass(frozen=True)
class Ticket:
    """What the session cookie carries: the session id and the record's key."""

    sid: str
    key: str

    @classmethod
    def new(cls) -> Ticket:
        return cls(sid=secrets.token_urlsafe(32), key=Fernet.generate_key().decode("ascii"))

    @property
    def store_key(self) -> str:
        """The record's name in the store: a hash, so a dump does not even list session ids."""
        return hashlib.sha256(self.sid.encode("ascii")).hexdigest()

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Ticket | None:
        """The ticket in an opened cookie payload, or None when it is not one of ours."""
        sid, key = payload.get("sid"), payload.get("k")
        if not isinstance(sid, str) or not isinstance(key, str) or not 16 <= len(sid) <= 128 or len(key) != 44:
            return None
        try:
            Fernet(key.encode("ascii"))
            sid.encode("ascii")
        except (ValueError, UnicodeError):
            return None
        return cls(sid, key)


@dataclass
class SessionData:
    """What a session record holds (encrypted): who signed in, how, and their tokens.

    ``granted_roles`` are the roles an ``on_login`` hook gave; a local account's own roles
    are read from the users file at each use, with ``credential`` (a fingerprint of the
    password hash at sign-in) ending the session when the password changes.
    """

    issuer: str
    subject: str
    provider: str
    claims: dict[str, Any]
    created: float
    expires_at: float
    granted_roles: list[str] = field(default_factory=list)
    tokens: dict[str, Any] = field(default_factory=dict)
    browser: str | None = None
    credential: str | None = None

    def seal(self, ticket: Ticket) -> bytes:
        data = json.dumps(asdict(self), separators=(",", ":"), sort_keys=True).encode("utf-8")
        return Fernet(ticket.key.encode("ascii")).encrypt(data)

    @classmethod
    def open(cls, ticket: Ticket, blob: bytes) -> SessionData | None:
        """The record's content, or None when the key does not open it."""
        try:
            raw = json.loads(Fernet(ticket.key.encode("ascii")).decrypt(blob))
            return cls(**raw)
        except (InvalidToken, ValueError, TypeError):
            return None


@dataclass
class Session:
    """An unlocked session: its ticket, the store's version and times, and its content."""

    ticket: Ticket
    version: int
    last_seen: float
    data: SessionData

    @property
    def sid(self) -> str:
        return self.ticket.sid

    @property
    def provider(self) -> str:
        return self.data.provider

    @property
    def tokens(self) -> dict[str, Any]:
        return self.data.tokens

    @property
    def expires_at(self) -> float:
        return self.data.expires_at


def credential_fingerprint(password_hash: str) -> str:
    """A short fingerprint of a password hash: changes whenever the password does."""
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()[:32]
