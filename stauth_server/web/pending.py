"""One-time entries waiting for a browser, kept per Streamlit session in bounded memory.

Cookie writes (``cookie_outbox``) and redirect hand-offs (``redirects``) wait here under
an unguessable token until the session's browser collects them. Memory stays bounded:
entries expire, each session may hold only a few (its owner decides what happens at
that cap), the total is capped, and a session's entries go when the session ends.

When the total is full, a new entry evicts the oldest entry of *another anonymous*
session, and only when there is none the oldest of another signed-in session: a flood
from anonymous sessions never makes another user's write fail or wait.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

#: How often, at most, the owners ask Streamlit which sessions have ended.
SWEEP_INTERVAL_SECONDS = 5.0


@dataclass(eq=False)
class Parked:
    """What every waiting entry has; ``weight`` is how much of the caps it uses."""

    token: str
    session_id: str
    signed_in: bool
    created: float
    weight: int = 1


P = TypeVar("P", bound=Parked)


class ParkingLot(Generic[P]):
    """Entries by token, oldest first, with their weight per session and in total.

    Not thread-safe: its owner holds a lock around every call. Entries must be added
    in the order of their ``created`` time (a monotonic clock), so expiry and eviction
    only ever look at the oldest entries.
    """

    def __init__(self, *, total: int, ttl: float, clock: Callable[[], float]) -> None:
        self.total = total
        self.ttl = ttl
        self._clock = clock
        self._by_token: dict[str, P] = {}
        self._by_session: dict[str, dict[str, P]] = {}
        self._anonymous: dict[str, P] = {}
        self._signed_in: dict[str, P] = {}
        self._weight = 0

    def __len__(self) -> int:
        return len(self._by_token)

    @property
    def weight(self) -> int:
        """The weight of every entry together (what ``total`` caps)."""
        return self._weight

    def get(self, token: str) -> P | None:
        """The entry under ``token`` unless it is unknown or expired."""
        self.expire()
        return self._by_token.get(token)

    def of_session(self, session_id: str) -> list[P]:
        """A session's entries, oldest first."""
        return list(self._by_session.get(session_id, {}).values())

    def session_weight(self, session_id: str) -> int:
        """The weight of a session's entries (what its owner's per-session cap caps)."""
        return sum(entry.weight for entry in self._by_session.get(session_id, {}).values())

    def add(self, entry: P) -> None:
        """Add ``entry``, first evicting other sessions' oldest entries while the total is full."""
        self.expire()
        self._make_room(entry.session_id, entry.weight)
        self._by_token[entry.token] = entry
        self._by_session.setdefault(entry.session_id, {})[entry.token] = entry
        (self._signed_in if entry.signed_in else self._anonymous)[entry.token] = entry
        self._weight += entry.weight

    def grow(self, entry: P, by: int) -> None:
        """Make a waiting entry heavier by ``by`` (evicting as ``add`` does)."""
        self._make_room(entry.session_id, by)
        entry.weight += by
        self._weight += by

    def remove(self, entry: P) -> None:
        """Forget ``entry`` (collected, expired, evicted or its session ended)."""
        if self._by_token.pop(entry.token, None) is None:
            return
        mine = self._by_session[entry.session_id]
        del mine[entry.token]
        if not mine:
            del self._by_session[entry.session_id]
        (self._signed_in if entry.signed_in else self._anonymous).pop(entry.token)
        self._weight -= entry.weight

    def drop_session(self, session_id: str) -> None:
        """Forget every entry of a session."""
        for entry in self.of_session(session_id):
            self.remove(entry)

    def sessions(self) -> list[str]:
        """The sessions that have entries waiting."""
        return list(self._by_session)

    def expire(self) -> None:
        """Forget the entries older than ``ttl`` (only the oldest need looking at)."""
        deadline = self._clock() - self.ttl
        for queue in (self._anonymous, self._signed_in):
            while queue:
                oldest = next(iter(queue.values()))
                if oldest.created >= deadline:
                    break
                self.remove(oldest)

    def _make_room(self, session_id: str, weight: int) -> None:
        while self._weight + weight > self.total:
            victim = self._oldest_of_another(self._anonymous, session_id)
            victim = victim or self._oldest_of_another(self._signed_in, session_id)
            if victim is None:
                return  # only the session's own entries: its owner's per-session cap bounds them
            self.remove(victim)

    @staticmethod
    def _oldest_of_another(queue: dict[str, P], session_id: str) -> P | None:
        """The oldest entry not of ``session_id`` (skips at most that session's own few)."""
        return next((entry for entry in queue.values() if entry.session_id != session_id), None)
