"""Deciding whether a redirect target is safe, and where exactly it points."""

from __future__ import annotations

import secrets
import threading
import time
from urllib.parse import quote, urlsplit, urlunsplit

from .errors import RedirectError


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


class PendingRedirects:
    """One-time redirect hand-offs: a script's redirect that must first deliver cookies.

    The browser is sent to our hand-off endpoint, which sets the session's pending cookies
    and answers 303 to the validated target.
    """

    TTL_SECONDS = 120.0
    MAX_PENDING = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, tuple[str, str, float]] = {}

    def add(self, session_id: str, url: str) -> str:
        token = secrets.token_urlsafe(24)
        now = time.monotonic()
        with self._lock:
            for key in [k for k, (_, _, t) in self._items.items() if now - t > self.TTL_SECONDS]:
                del self._items[key]
            if len(self._items) >= self.MAX_PENDING:
                raise RedirectError("too many redirects are waiting for their browser")
            self._items[token] = (session_id, url, now)
        return token

    def take(self, token: str) -> tuple[str, str] | None:
        """(session_id, url) once; None when unknown, used or expired."""
        with self._lock:
            item = self._items.pop(token, None)
        if item is None or time.monotonic() - item[2] > self.TTL_SECONDS:
            return None
        return item[0], item[1]


PENDING_REDIRECTS = PendingRedirects()
