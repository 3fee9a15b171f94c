"""Deciding whether a redirect target is safe, and where exactly it points."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from ..core.errors import RedirectError
from .pending import SWEEP_INTERVAL_SECONDS, Parked, ParkingLot


def _has_forbidden_chars(url: str) -> bool:
    return any(ord(c) < 0x20 or ord(c) == 0x7F or c in "\\" or c.isspace() for c in url)


_URL_SAFE = "!#$%&'()*+,-./:;=?@[]^_`{|}~"


def _ascii(text: str) -> str:
    """Percent-encode what is not ASCII (UTF-8), leaving the URL's own syntax alone."""
    return quote(text, safe=_URL_SAFE)


def _ascii_url(url: str) -> str:
    """An absolute URL with a punycode host and a percent-encoded rest."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise RedirectError(f"redirect target {url!r} has a host that is not a valid domain name") from None
    netloc = ascii_host if ":" not in host else f"[{host}]"
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, _ascii(parts.path), _ascii(parts.query), _ascii(parts.fragment)))


def join_base(base_path: str, path: str) -> str:
    """``/billing`` under base ``app`` -> ``/app/billing``."""
    base = "/" + base_path.strip("/") if base_path.strip("/") else ""
    return f"{base}{path}" if path.startswith("/") else f"{base}/{path}"


def safe_app_path(target: str, base_path: str) -> str:
    """Validate a same-app path (``/page?x=1#y``) and put it under the base path.

    Refused: anything with a scheme or host, ``//host``, backslashes, whitespace and
    control characters: the forms browsers turn into another origin.
    """
    if not isinstance(target, str) or not target:
        raise RedirectError(f"redirect target must be a non-empty string, got {target!r}")
    if _has_forbidden_chars(target):
        raise RedirectError(f"redirect target {target!r} has whitespace, a backslash or a control character")
    if not target.startswith("/"):
        raise RedirectError(
            f"redirect target {target!r} must be a path starting with '/' (relative to the app), "
            "or an absolute http(s) URL with external=True"
        )
    if target.startswith("//"):
        raise RedirectError(f"redirect target {target!r} starts with '//', which browsers treat as another host")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        raise RedirectError(f"redirect target {target!r} is not a same-app path")
    full = _ascii(join_base(base_path, target))
    if full.startswith("//"):
        raise RedirectError(f"redirect target {target!r} would leave the app")
    return full


def safe_external_url(target: str, *, allow_http: bool = True) -> str:
    """Validate an absolute ``http(s)`` URL with a host and no credentials."""
    if not isinstance(target, str) or not target:
        raise RedirectError(f"redirect target must be a non-empty string, got {target!r}")
    if _has_forbidden_chars(target):
        raise RedirectError(f"redirect target {target!r} has whitespace, a backslash or a control character")
    try:
        parts = urlsplit(target)
        host = parts.hostname
    except ValueError:
        raise RedirectError(f"redirect target {target!r} is not a valid URL") from None
    allowed = ("https", "http") if allow_http else ("https",)
    if parts.scheme.lower() not in allowed:
        raise RedirectError(f"redirect target {target!r}: only {' and '.join(allowed)} URLs are allowed")
    if not host:
        raise RedirectError(f"redirect target {target!r} has no host")
    if "@" in parts.netloc:
        raise RedirectError(f"redirect target {target!r} carries credentials ('user@host'), refused")
    try:
        parts.port
    except ValueError:
        raise RedirectError(f"redirect target {target!r} has an invalid port") from None
    return _ascii_url(target)


def resolve(target: str, *, base_path: str, external: bool, app_origin: str | None) -> str:
    """The URL to send the browser to, or ``RedirectError``.

    A path is same-app. An absolute URL is allowed when it points at the app's own origin
    (``app_origin``, e.g. ``https://host:8501``) or when ``external=True``.
    """
    if isinstance(target, str) and target.startswith("/") and not target.startswith("//"):
        return safe_app_path(target, base_path)
    url = safe_external_url(target)
    if external:
        return url
    if app_origin:
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}".lower() == app_origin.lower():
            return url
    raise RedirectError(f"redirect target {target!r} leaves the app; pass external=True to allow it")


@dataclass(eq=False)
class Handoff(Parked):
    """A validated redirect target waiting for its session's browser."""

    url: str = ""


class PendingRedirects:
    """One-time redirect hand-offs: a script's redirect that must first deliver cookies.

    The browser is sent to our hand-off endpoint, which sets the session's pending cookies
    and answers 303 to the validated target. Bounded: a session keeps its latest
    ``per_session`` hand-offs (the browser follows the newest anyway), the total is capped
    with other sessions' oldest evicted first (anonymous ones first; see ``pending``), and
    a session's hand-offs go when it ends (``forget_sessions``).
    """

    TTL_SECONDS = 120.0
    MAX_PER_SESSION = 4
    MAX_PENDING = 4_096

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        per_session: int | None = None,
        total: int | None = None,
    ) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._per_session = per_session or self.MAX_PER_SESSION
        self._lot: ParkingLot[Handoff] = ParkingLot(
            total=total or self.MAX_PENDING, ttl=self.TTL_SECONDS, clock=clock
        )
        self._swept = float("-inf")

    def add(self, session_id: str, url: str, *, signed_in: bool = False) -> str:
        """Park ``url`` for the session's browser; return the one-time token.

        ``signed_in`` says whether the session's user is signed in (their hand-offs are
        evicted last). Never refuses: at the session's cap its oldest hand-off goes.
        """
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._lot.expire()
            mine = self._lot.of_session(session_id)
            for stale in mine[: max(0, len(mine) + 1 - self._per_session)]:
                self._lot.remove(stale)
            self._lot.add(Handoff(token, session_id, signed_in, created=self._clock(), url=url))
        return token

    def take(self, token: str) -> tuple[str, str] | None:
        """(session_id, url) once; None when unknown, used or expired."""
        with self._lock:
            handoff = self._lot.get(token)
            if handoff is None:
                return None
            self._lot.remove(handoff)
        return handoff.session_id, handoff.url

    def pending_count(self) -> int:
        """How many hand-offs wait in total (bounded by the total cap)."""
        with self._lock:
            return len(self._lot)

    def forget_sessions(self, is_alive: Callable[[str], bool]) -> None:
        """Drop the hand-offs of sessions that ended (``is_alive`` says no).

        Asks at most every ``SWEEP_INTERVAL_SECONDS``, so calling it on every redirect is cheap.
        """
        with self._lock:
            now = self._clock()
            if now - self._swept < SWEEP_INTERVAL_SECONDS:
                return
            self._swept = now
            for session_id in self._lot.sessions():
                if not is_alive(session_id):
                    self._lot.drop_session(session_id)


PENDING_REDIRECTS = PendingRedirects()
