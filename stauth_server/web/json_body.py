"""The JSON body of a POST from our own pages' scripts (passkeys, Firebase sign-in).

Only ``application/json`` is taken (a cross-site HTML form cannot send it), at most
``max_bytes``, and only an object: anything else is a ``BodyRefused`` with its 4xx status
and a short message, never a 500 (deep nesting included).
"""

from __future__ import annotations

import json
from typing import Any

from .exchange import HttpRequest


class BodyRefused(Exception):
    """The body is not what the endpoint takes: answer ``status`` with ``message``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def json_object(request: HttpRequest, max_bytes: int, *, expected: str = "a JSON object") -> dict[str, Any]:
    """The posted JSON object; ``BodyRefused`` (415, 413 or 400) for anything else.
    ``expected`` names the object in the 400 message (``"a JSON object with idToken"``)."""
    if request.header("Content-Type").split(";", 1)[0].strip().lower() != "application/json":
        raise BodyRefused(415, "Send application/json")
    if len(request.body) > max_bytes:
        raise BodyRefused(413, "Request too large")
    try:
        posted = json.loads(request.body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deep
        raise BodyRefused(400, "Malformed JSON") from None
    if not isinstance(posted, dict):
        raise BodyRefused(400, f"Expected {expected}")
    return posted


__all__ = ["BodyRefused", "json_object"]
