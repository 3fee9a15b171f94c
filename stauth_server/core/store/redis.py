"""``redis://``: records shared by replicas, and a bus (pub/sub) that tells every replica
about sign-ins and sign-outs. Needs the ``redis`` extra."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ..errors import ConfigError
from . import Listener, StoredSession, StoreUnavailable

LOGGER = logging.getLogger("stauth_server.store")
PREFIX = "stauth:"
CHANNEL = f"{PREFIX}bus"
#: Seconds a Redis call may take before the request that needs it gets a 503.
TIMEOUT = 2.0

_REPLACE = """
local v = redis.call('HGET', KEYS[1], 'v')
if not v or tonumber(v) ~= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'blob', ARGV[1], 'v', tonumber(v) + 1)
return 1
"""
_TOUCH = """
local seen = redis.call('HGET', KEYS[1], 'seen')
if not seen then return 0 end
if tonumber(ARGV[1]) > tonumber(seen) then redis.call('HSET', KEYS[1], 'seen', ARGV[1]) end
return 1
"""


def _redis_module() -> Any:
    try:
        import redis
    except ImportError:
        raise ConfigError('[auth.store] url: a Redis store needs the redis package: '
                          'pip install "streamlit-auth[redis]"') from None
    return redis


class RedisStore:
    """Records as Redis hashes that expire with their sessions; CAS writes in Lua."""

    def __init__(self, url: str, clock: Callable[[], float] = time.time):
        redis = _redis_module()
        self._errors = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
                        redis.exceptions.ResponseError, redis.exceptions.BusyLoadingError)
        self._redis = redis.Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
        self._replace = self._redis.register_script(_REPLACE)
        self._touch = self._redis.register_script(_TOUCH)
        self._clock = clock
        self._listeners: list[Listener] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def create(self, key: str, blob: bytes, expires_at: float, now: float) -> None:
        name = f"{PREFIX}s:{key}"
        with self._errors_as_unavailable():
            pipe = self._redis.pipeline(transaction=True)
            pipe.delete(name)
            pipe.hset(name, mapping={"v": 1, "exp": repr(expires_at), "seen": repr(now), "blob": blob})
            pipe.expireat(name, int(expires_at) + 1)
            pipe.execute()

    def load(self, key: str) -> StoredSession | None:
        with self._errors_as_unavailable():
            version, expires, seen, blob = self._redis.hmget(f"{PREFIX}s:{key}", "v", "exp", "seen", "blob")
        if version is None or blob is None or float(expires) <= self._clock():
            return None
        return StoredSession(int(version), float(expires), float(seen), bytes(blob))

    def replace(self, key: str, blob: bytes, expected_version: int) -> bool:
        with self._errors_as_unavailable():
            return bool(self._replace(keys=[f"{PREFIX}s:{key}"], args=[blob, expected_version]))

    def touch(self, key: str, last_seen: float) -> bool:
        with self._errors_as_unavailable():
            return bool(self._touch(keys=[f"{PREFIX}s:{key}"], args=[repr(last_seen)]))

    def delete(self, key: str) -> None:
        with self._errors_as_unavailable():
            self._redis.delete(f"{PREFIX}s:{key}")

    def claim_once(self, name: str, ttl_seconds: float) -> bool:
        with self._errors_as_unavailable():
            return bool(self._redis.set(f"{PREFIX}once:{name}", b"1", nx=True, ex=max(1, int(ttl_seconds))))

    def sweep(self, now: float) -> int:
        return 0  # Redis expires keys itself

    def publish(self, message: bytes) -> None:
        with self._errors_as_unavailable():
            self._redis.publish(CHANNEL, message)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)
        if self._thread is None:
            self._thread = threading.Thread(target=self._listen, name="stauth-redis-bus", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3)
        self._redis.close()

    def _listen(self) -> None:
        """Deliver bus messages; reconnect (every second) while Redis is away."""
        while not self._stop.is_set():
            try:
                pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message and message.get("type") == "message":
                        self._deliver(message["data"])
            except self._errors as exc:
                LOGGER.warning("session bus: Redis unavailable (%s); retrying", type(exc).__name__)
                self._stop.wait(1.0)

    def _deliver(self, data: bytes) -> None:
        for listener in list(self._listeners):
            try:
                listener(data)
            except Exception:
                LOGGER.exception("session bus listener failed")

    def _errors_as_unavailable(self) -> Any:
        return _Translate(self._errors)


class _Translate:
    """Context manager: Redis connection and timeout errors become ``StoreUnavailable``."""

    def __init__(self, errors: tuple[type[BaseException], ...]):
        self._errors = errors

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is not None and isinstance(exc, self._errors):
            raise StoreUnavailable(f"session store (Redis): {type(exc).__name__}") from None
        return False
