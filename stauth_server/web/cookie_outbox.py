"""Cookie writes waiting for their browser, and what each session's script sees meanwhile.

A script's ``sa.cookies.set()`` cannot touch the HTTP response that served the page (that
was long ago; the app talks over a websocket). So a write is parked here under a fresh
128-bit token that only the writing session's page receives; that page then asks our
delivery endpoint for it, which answers with real ``Set-Cookie`` headers. A token works
once, for a limited time, and only from the browser whose websocket the session uses.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .cookie_rules import CookieWrite
from ..core.errors import CookieError
from .pending import SWEEP_INTERVAL_SECONDS, Parked, ParkingLot

DELIVERY_TTL_SECONDS = 600.0
#: Cookie writes one session may have waiting for its browser (more is the script's bug).
MAX_PENDING_PER_SESSION = 64
#: Cookie writes waiting in total; beyond it other sessions' oldest writes are dropped.
MAX_PENDING_TOTAL = 4_096


@dataclass(eq=False)
class Delivery(Parked):
    """Writes made by one session in one script run, to be sent to its browser once.

    Its ``weight`` is its number of writes.
    """

    run_marker: object = None
    binding: str | None = None
    writes: list[CookieWrite] = field(default_factory=list)


def browser_binding(xsrf_cookie: str | None) -> str | None:
    """The stable per-browser secret inside Streamlit's XSRF cookie, or None.

    The cookie is Tornado's v2 form ``2|mask|masked_token|timestamp`` and is re-issued
    with a new mask on every page load; the unmasked token stays the same per browser.
    """
    if not xsrf_cookie:
        return None
    parts = xsrf_cookie.split("|")
    if len(parts) == 4 and parts[0] == "2":
        try:
            mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
        except ValueError:
            return xsrf_cookie
        if not mask or not masked:
            return xsrf_cookie
        return bytes(m ^ mask[i % len(mask)] for i, m in enumerate(masked)).hex()
    return xsrf_cookie


class DeliveryRefused(Exception):
    """The token is unknown, used, expired, or presented by another browser."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class CookieOutbox:
    """Thread-safe store: script threads add writes, the server's event loop takes them.

    Bounded: at most ``per_session`` writes wait per session (one more raises
    ``CookieError`` in that session's script) and ``total`` in all (beyond it, the
    oldest writes of other sessions, anonymous ones first, are dropped; see ``pending``).
    A session's writes and view go when the session ends (``forget_sessions``).
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        per_session: int = MAX_PENDING_PER_SESSION,
        total: int = MAX_PENDING_TOTAL,
    ):
        self._clock = clock
        self._lock = threading.Lock()
        self._per_session = per_session
        self._lot: ParkingLot[Delivery] = ParkingLot(total=total, ttl=DELIVERY_TTL_SECONDS, clock=clock)
        self._open: dict[str, Delivery] = {}
        self._views: dict[str, dict[str, str | None]] = {}
        self._swept = float("-inf")

    def add(
        self,
        session_id: str,
        run_marker: object,
        write: CookieWrite,
        binding: str | None,
        *,
        signed_in: bool = False,
    ) -> Delivery | None:
        """Park ``write``; return a new Delivery when the page must be told a new token.

        Writes within one script run share one delivery while it has not been taken,
        so a run that sets five cookies sends its page one token, not five. ``signed_in``
        says whether the session's user is signed in (their writes are evicted last).
        Raises ``CookieError`` when the session already has its cap of writes waiting.
        """
        with self._lock:
            self._lot.expire()
            current = self._open_delivery(session_id, run_marker)
            others = [w for w in current.writes if (w.name, w.path) != (write.name, write.path)] if current else []
            replaces = current is not None and len(others) < len(current.writes)
            if not replaces and self._lot.session_weight(session_id) >= self._per_session:
                raise CookieError("too many cookie writes are waiting for the browser; is its page open?")
            self._views.setdefault(session_id, {})[write.name] = write.value
            if current is not None:
                current.writes = [*others, write]
                if not replaces:
                    self._lot.grow(current, 1)
                return None
            delivery = Delivery(
                token=secrets.token_urlsafe(24),
                session_id=session_id,
                signed_in=signed_in,
                created=self._clock(),
                run_marker=run_marker,
                binding=binding,
                writes=[write],
            )
            self._lot.add(delivery)
            self._open[session_id] = delivery
            return delivery

    def _open_delivery(self, session_id: str, run_marker: object) -> Delivery | None:
        """The session's delivery of this script run, while it still waits to be taken."""
        current = self._open.get(session_id)
        if current is None or current.run_marker is not run_marker or self._lot.get(current.token) is not current:
            return None
        return current

    def take(self, token: str, presented_binding: str | None) -> list[CookieWrite]:
        """Hand out a delivery's writes exactly once, to the browser it is bound to."""
        with self._lock:
            delivery = self._lot.get(token)
            if delivery is None:
                raise DeliveryRefused(404, "Unknown or already used cookie token")
            if delivery.binding is not None and not hmac.compare_digest(
                delivery.binding.encode(), (presented_binding or "").encode()
            ):
                raise DeliveryRefused(403, "This cookie token belongs to another browser")
            self._lot.remove(delivery)
            return list(delivery.writes)

    def take_session(self, session_id: str, presented_binding: str | None) -> list[CookieWrite]:
        """Take every pending write of a session (a redirect delivers them on its way).

        Like ``take``, only writes bound to the presenting browser are handed out.
        """
        presented = (presented_binding or "").encode()
        with self._lock:
            self._lot.expire()
            writes: list[CookieWrite] = []
            for delivery in self._lot.of_session(session_id):
                if delivery.binding is None or hmac.compare_digest(delivery.binding.encode(), presented):
                    self._lot.remove(delivery)
                    writes.extend(delivery.writes)
            return writes

    def has_pending(self, session_id: str) -> bool:
        """Whether writes of this session are waiting for its browser."""
        with self._lock:
            self._lot.expire()
            return bool(self._lot.of_session(session_id))

    def pending_count(self) -> int:
        """How many writes wait in total (bounded by the total cap)."""
        with self._lock:
            return self._lot.weight

    def view(self, session_id: str, sent_by_browser: Mapping[str, str]) -> dict[str, str]:
        """The cookies as this session's script should see them: sent ones plus its writes."""
        with self._lock:
            changes = dict(self._views.get(session_id, {}))
        merged = dict(sent_by_browser)
        for name, value in changes.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = value
        return merged

    def forget_sessions(self, is_alive: Callable[[str], bool]) -> None:
        """Drop the writes and views of sessions that ended (``is_alive`` says no).

        Asks at most every ``SWEEP_INTERVAL_SECONDS``, so calling it on every write is cheap.
        """
        with self._lock:
            now = self._clock()
            if now - self._swept < SWEEP_INTERVAL_SECONDS:
                return
            self._swept = now
            for session_id in {*self._views, *self._open, *self._lot.sessions()}:
                if not is_alive(session_id):
                    self._views.pop(session_id, None)
                    self._open.pop(session_id, None)
                    self._lot.drop_session(session_id)
            self._lot.expire()


OUTBOX = CookieOutbox()
