"""Where server-side session records live: SQLite by default, memory, or Redis.

A store keeps opaque, encrypted records (it never sees identities or tokens) under a key
derived from the session id, with the few clear fields it needs to run: a version for
compare-and-set writes, the absolute expiry, and the last time the session was seen.

Every method blocks (disk or network I/O): call them off the event loop. A store that
cannot be reached raises ``StoreUnavailable``; callers answer 503 and keep the session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

#: Called with each message published on the store's bus (sign-ins and sign-outs).
Listener = Callable[[bytes], None]


class StoreUnavailable(RuntimeError):
    """The session store cannot be reached or written right now (Redis down, file locked)."""


@dataclass(frozen=True)
class StoredSession:
    """A session record as the store keeps it. Times are Unix seconds."""

    version: int
    expires_at: float
    last_seen: float
    blob: bytes


class SessionStore(Protocol):
    """The operations the session service needs; each is atomic."""

    def create(self, key: str, blob: bytes, expires_at: float, now: float) -> None:
        """Store a new record (version 1)."""

    def load(self, key: str) -> StoredSession | None:
        """The live record, or None when absent or past its expiry."""

    def replace(self, key: str, blob: bytes, expected_version: int) -> bool:
        """Compare-and-set: write ``blob`` only when the record still exists at
        ``expected_version`` (bumping it). False when it was deleted or changed meanwhile,
        so a revoked session is never written back."""

    def touch(self, key: str, last_seen: float) -> bool:
        """Move ``last_seen`` forward on an existing record (never creates one)."""

    def delete(self, key: str) -> None:
        """Remove a record; later ``replace``/``touch`` calls for it fail."""

    def claim_once(self, name: str, ttl_seconds: float) -> bool:
        """True the first time ``name`` is claimed within ``ttl_seconds``; False after."""

    def sweep(self, now: float) -> int:
        """Drop expired records and one-time values; how many were dropped."""

    def publish(self, message: bytes) -> None:
        """Send ``message`` to every listener of every process sharing this store."""

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` (from any thread) with each published message."""

    def close(self) -> None:
        """Release connections and threads."""


class LocalBus:
    """A bus for stores one process owns: published messages reach this process only."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def publish(self, message: bytes) -> None:
        for listener in list(self._listeners):
            listener(message)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)


DEFAULT_FILE_NAME = "stauth-sessions.db"


def default_store_url(app_dir: Path) -> str:
    """The embedded default: a SQLite file in the app's ``.streamlit`` folder."""
    return f"sqlite://{(app_dir / '.streamlit' / DEFAULT_FILE_NAME).resolve()}"


def make_store(url: str) -> SessionStore:
    """The store a ``[auth.store] url`` names: ``sqlite://PATH``, ``memory://``, ``redis://...``."""
    if url.startswith("memory:"):
        from .memory import MemoryStore

        return MemoryStore()
    if url.startswith("sqlite://"):
        from .sqlite import SqliteStore

        return SqliteStore(Path(url[len("sqlite://"):]))
    from .redis import RedisStore

    return RedisStore(url)
