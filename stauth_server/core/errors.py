"""Exceptions of the public API."""

from __future__ import annotations


class HTTPError(Exception):
    """Raise from a route handler to answer with ``status`` and a short ``message``.

    The client gets ``{"error": message}`` as JSON with that status.
    """

    def __init__(self, status: int, message: str = "", *, headers: dict[str, str] | None = None):
        if not 400 <= int(status) <= 599:
            raise ValueError(f"HTTPError status must be 4xx or 5xx, got {status!r}")
        self.status = int(status)
        self.message = message
        self.headers = dict(headers or {})
        super().__init__(f"{status} {message}".strip())


class Forbidden(HTTPError):
    """The user is known but may not do this (403)."""

    def __init__(self, message: str = "Forbidden"):
        super().__init__(403, message)


class ConfigError(ValueError):
    """The configuration is wrong; the message names the key and what is expected."""


class CookieError(ValueError):
    """A cookie write was refused before anything reached the browser."""


class RedirectError(ValueError):
    """A redirect target was refused (open-redirect form, bad scheme, control characters)."""


class RouteError(ValueError):
    """A route definition is wrong or collides with another path."""
