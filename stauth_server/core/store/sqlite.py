"""``sqlite://PATH``: the embedded default, one file that outlives restarts.

WAL mode, so readers never wait for the writer and several processes on one machine can
share the file; the file and its folder are created owner-only. Each statement is its own
transaction: compare-and-set writes are a single ``UPDATE ... WHERE version = ?``.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from . import LocalBus, StoredSession, StoreUnavailable

#: How long a statement waits for another process's write lock before giving up (ms).
BUSY_TIMEOUT_MS = 2000

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    key TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    expires_at REAL NOT NULL,
    last_seen REAL NOT NULL,
    blob BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions (expires_at);
CREATE TABLE IF NOT EXISTS once (name TEXT PRIMARY KEY, until REAL NOT NULL);
"""


class SqliteStore(LocalBus):
    """Session records in one SQLite file; one connection per thread."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time):
        super().__init__()
        self.path = path
        self._clock = clock
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        _create_owner_only(path)
        with self._statement() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    def create(self, key: str, blob: bytes, expires_at: float, now: float) -> None:
        with self._statement() as db:
            db.execute("INSERT OR REPLACE INTO sessions VALUES (?, 1, ?, ?, ?)", (key, expires_at, now, blob))

    def load(self, key: str) -> StoredSession | None:
        with self._statement() as db:
            row = db.execute("SELECT version, expires_at, last_seen, blob FROM sessions WHERE key = ? AND expires_at > ?",
                             (key, self._clock())).fetchone()
        return StoredSession(row[0], row[1], row[2], bytes(row[3])) if row else None

    def replace(self, key: str, blob: bytes, expected_version: int) -> bool:
        with self._statement() as db:
            cursor = db.execute("UPDATE sessions SET blob = ?, version = version + 1 WHERE key = ? AND version = ?",
                                (blob, key, expected_version))
        return cursor.rowcount == 1

    def touch(self, key: str, last_seen: float) -> bool:
        with self._statement() as db:
            cursor = db.execute("UPDATE sessions SET last_seen = max(last_seen, ?) WHERE key = ?", (last_seen, key))
        return cursor.rowcount == 1

    def delete(self, key: str) -> None:
        with self._statement() as db:
            db.execute("DELETE FROM sessions WHERE key = ?", (key,))

    def claim_once(self, name: str, ttl_seconds: float) -> bool:
        now = self._clock()
        with self._statement() as db:
            cursor = db.execute(
                "INSERT INTO once VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET until = excluded.until "
                "WHERE once.until <= ?", (name, now + ttl_seconds, now))
        return cursor.rowcount == 1

    def sweep(self, now: float) -> int:
        with self._statement() as db:
            dropped = db.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,)).rowcount
            dropped += db.execute("DELETE FROM once WHERE until <= ?", (now,)).rowcount
        return dropped

    def close(self) -> None:
        with self._guard:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()

    @contextmanager
    def _statement(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection; SQLite errors become ``StoreUnavailable``."""
        try:
            yield self._connection()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"session store {self.path}: {exc}") from None

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                         check_same_thread=False)
            connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            connection.execute("PRAGMA synchronous=NORMAL")
            self._local.connection = connection
            with self._guard:
                self._connections.append(connection)
        return connection


def _create_owner_only(path: Path) -> None:
    """Create the file (and its folder) readable by the owner only; tighten an existing one."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        os.chmod(path, 0o600)
    except OSError as exc:
        raise StoreUnavailable(f"session store {path}: {exc.strerror or exc}") from None
