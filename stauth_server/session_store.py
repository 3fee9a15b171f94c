"""Server-side session state: which sessions exist, when they were last used, their tokens.

The cookie says who the user is; this store says whether that session still stands
(logout revokes it, so a copied cookie stops working), enforces the idle timeout, keeps
the OAuth tokens (refreshed server-side) and remembers used one-time values (a replayed
callback). In memory by default; in Redis (``[auth.store] url``) when replicas share it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol


@dataclass
class SessionRecord:
    """One signed-in session. Times are Unix seconds."""

    sid: str
    user_id: str
    provider: str
    created: float
    expires_at: float
    last_seen: float
    tokens: dict[str, Any] = field(default_factory=dict)
    browser: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> SessionRecord:
        return cls(**json.loads(text))


class SessionStore(Protocol):
    def save(self, record: SessionRecord) -> None: ...
    def get(self, sid: str) -> SessionRecord | None: ...
    def delete(self, sid: str) -> None: ...
    def claim_once(self, key: str, ttl_seconds: float) -> bool: ...


class MemoryStore:
    """A store for a single process (a restart signs everyone out)."""

    def __init__(self, clock: Callable[[], float] = time.time):
        self._clock = clock
        self._lock = threading.Lock()
        self._records: dict[str, SessionRecord] = {}
        self._claims: dict[str, float] = {}
        self._writes = 0

    def save(self, record: SessionRecord) -> None:
        with self._lock:
            self._records[record.sid] = SessionRecord(**asdict(record))
            self._sweep_locked()

    def get(self, sid: str) -> SessionRecord | None:
        with self._lock:
            record = self._records.get(sid)
            if record is None:
                return None
            if record.expires_at <= self._clock():
                del self._records[sid]
                return None
            return SessionRecord(**asdict(record))

    def delete(self, sid: str) -> None:
        with self._lock:
            self._records.pop(sid, None)

    def claim_once(self, key: str, ttl_seconds: float) -> bool:
        """True the first time ``key`` is claimed within ``ttl_seconds``; False after."""
        now = self._clock()
        with self._lock:
            until = self._claims.get(key)
            if until is not None and until > now:
                return False
            self._claims[key] = now + ttl_seconds
            self._sweep_locked()
            return True

    def _sweep_locked(self) -> None:
        # Every 256th write, whatever the number of live sessions: sweeping only when the
        # record count was a multiple of 256 let a small app's one-time claims pile up forever.
        self._writes += 1
        if self._writes % 256:
            return
        now = self._clock()
        for sid in [s for s, r in self._records.items() if r.expires_at <= now]:
            del self._records[sid]
        for key in [k for k, until in self._claims.items() if until <= now]:
            del self._claims[key]


class RedisStore:
    """A store shared by replicas, in Redis (keys expire with their sessions)."""

    PREFIX = "stauth:"

    def __init__(self, url: str, clock: Callable[[], float] = time.time):
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._clock = clock

    def save(self, record: SessionRecord) -> None:
        ttl = max(1, int(record.expires_at - self._clock()))
        self._redis.set(f"{self.PREFIX}session:{record.sid}", record.to_json(), ex=ttl)

    def get(self, sid: str) -> SessionRecord | None:
        raw = self._redis.get(f"{self.PREFIX}session:{sid}")
        return SessionRecord.from_json(raw) if raw else None

    def delete(self, sid: str) -> None:
        self._redis.delete(f"{self.PREFIX}session:{sid}")

    def claim_once(self, key: str, ttl_seconds: float) -> bool:
        return bool(self._redis.set(f"{self.PREFIX}once:{key}", b"1", nx=True, ex=max(1, int(ttl_seconds))))


def make_store(url: str | None) -> SessionStore:
    """A Redis store for ``redis://`` URLs, else an in-memory one."""
    return RedisStore(url) if url else MemoryStore()
