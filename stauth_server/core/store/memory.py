"""``memory://``: records in this process only (a restart signs everyone out)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from . import LocalBus, StoredSession

#: Sweep expired entries every this many writes.
SWEEP_EVERY = 256


class MemoryStore(LocalBus):
    """A thread-safe in-process store; its bus reaches this process's listeners only."""

    def __init__(self, clock: Callable[[], float] = time.time):
        super().__init__()
        self._clock = clock
        self._lock = threading.Lock()
        self._records: dict[str, StoredSession] = {}
        self._claims: dict[str, float] = {}
        self._writes = 0

    def create(self, key: str, blob: bytes, expires_at: float, now: float) -> None:
        with self._lock:
            self._records[key] = StoredSession(1, expires_at, now, blob)
            self._count_write()

    def load(self, key: str) -> StoredSession | None:
        with self._lock:
            record = self._records.get(key)
            if record is not None and record.expires_at <= self._clock():
                del self._records[key]
                return None
            return record

    def replace(self, key: str, blob: bytes, expected_version: int) -> bool:
        with self._lock:
            record = self._records.get(key)
            if record is None or record.version != expected_version:
                return False
            self._records[key] = StoredSession(record.version + 1, record.expires_at, record.last_seen, blob)
            return True

    def touch(self, key: str, last_seen: float) -> bool:
        with self._lock:
            record = self._records.get(key)
            if record is None:
                return False
            if last_seen > record.last_seen:
                self._records[key] = StoredSession(record.version, record.expires_at, last_seen, record.blob)
            return True

    def delete(self, key: str) -> None:
        with self._lock:
            self._records.pop(key, None)

    def claim_once(self, name: str, ttl_seconds: float) -> bool:
        now = self._clock()
        with self._lock:
            until = self._claims.get(name)
            if until is not None and until > now:
                return False
            self._claims[name] = now + ttl_seconds
            self._count_write()
            return True

    def sweep(self, now: float) -> int:
        with self._lock:
            return self._sweep_locked(now)

    def close(self) -> None:
        self._listeners.clear()

    def _count_write(self) -> None:
        # Every SWEEP_EVERY-th write, whatever the number of live sessions, so a small
        # app's one-time claims never pile up.
        self._writes += 1
        if self._writes % SWEEP_EVERY == 0:
            self._sweep_locked(self._clock())

    def _sweep_locked(self, now: float) -> int:
        expired = [k for k, r in self._records.items() if r.expires_at <= now]
        used = [k for k, until in self._claims.items() if until <= now]
        for key in expired:
            del self._records[key]
        for name in used:
            del self._claims[name]
        return len(expired) + len(used)
