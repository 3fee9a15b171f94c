"""Growing delays after failed password attempts, per account and per address."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable


class Throttle:
    """After ``free`` failures, each further failure doubles the wait (up to ``cap``)."""

    def __init__(self, free: int = 3, base_seconds: float = 2.0, cap_seconds: float = 300.0,
                 clock: Callable[[], float] = time.monotonic):
        self.free, self.base, self.cap = free, base_seconds, cap_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, tuple[int, float]] = {}

    def wait_seconds(self, keys: Iterable[str]) -> float:
        """How long these keys must still wait before another attempt (0 when allowed)."""
        now = self._clock()
        with self._lock:
            waits = [self._until(key) - now for key in keys]
        return max([0.0, *waits])

    def _until(self, key: str) -> float:
        count, last = self._failures.get(key, (0, 0.0))
        if count < self.free:
            return 0.0
        return last + min(self.cap, self.base * 2 ** min(count - self.free, 32))  # no overflow

    def attempt(self, keys: Iterable[str]) -> float:
        """Count an attempt as a failure before any password work, atomically.

        Returns how long to wait (the attempt is refused) or 0 (go ahead; ``success``
        clears the count). Parallel attempts each see the ones before them, so ten at once
        cannot all pass the check that one would not.
        """
        keys = list(keys)
        now = self._clock()
        with self._lock:
            wait = max([0.0, *(self._until(key) - now for key in keys)])
            self._count_locked(keys, now)
        return wait

    def failure(self, keys: Iterable[str]) -> None:
        with self._lock:
            self._count_locked(keys, self._clock())

    def _count_locked(self, keys: Iterable[str], now: float) -> None:
        for key in keys:
            count, last = self._failures.get(key, (0, now))
            if now - last > self.cap * 4:
                count = 0
            self._failures[key] = (count + 1, now)
        if len(self._failures) > 100_000:
            self._failures = {k: v for k, v in self._failures.items() if now - v[1] <= self.cap * 4}

    def refund(self, keys: Iterable[str]) -> None:
        """Take back one counted attempt: the check never ran (the directory was down)."""
        with self._lock:
            for key in keys:
                count, last = self._failures.get(key, (0, 0.0))
                if count <= 1:
                    self._failures.pop(key, None)
                else:
                    self._failures[key] = (count - 1, last)

    def success(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
