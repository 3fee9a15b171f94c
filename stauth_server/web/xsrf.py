"""The host's XSRF cookie and token, checked without the server framework.

Tornado's v2 format, which Streamlit's Starlette server writes too (same cookie name):
``2|<hex mask>|<hex token XOR mask>|<timestamp>``. A v1 value (hex token, or the raw
text) is still read. Each page embeds the cookie's token under a fresh mask, so the form
field differs per page while the secret it carries does not.
"""

from __future__ import annotations

import binascii
import hmac
import os
import re
import time
from collections.abc import Mapping
from html import escape

from .exchange import HttpRequest

FORM_FIELD = "_xsrf"
TOKEN_HEADERS = ("X-Xsrftoken", "X-Csrftoken")
_VERSIONED = re.compile(r"^[1-9][0-9]*\|", re.DOTALL)


def _xor(mask: bytes, data: bytes) -> bytes:
    return bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def decode_xsrf(value: str | None) -> tuple[int, bytes, int] | None:
    """(version, token, timestamp) of a cookie or submitted token; None when malformed."""
    if not value:
        return None
    try:
        if value.startswith("2|"):
            _, mask_hex, masked_hex, timestamp = value.split("|")
            mask = binascii.a2b_hex(mask_hex.encode("ascii"))
            if len(mask) != 4:
                return None
            token = _xor(mask, binascii.a2b_hex(masked_hex.encode("ascii")))
            return 2, token, int(timestamp)
        if _VERSIONED.match(value):  # another version: unknown
            return None
        try:
            token = binascii.a2b_hex(value.encode("ascii"))
        except (binascii.Error, ValueError):
            token = value.encode("utf-8")
        return 1, token, int(time.time())
    except (ValueError, binascii.Error, UnicodeEncodeError):
        return None


def encode_xsrf(token: bytes, timestamp: int, mask: bytes | None = None) -> str:
    """The v2 form of ``token``, under a fresh random mask unless one is given."""
    mask = os.urandom(4) if mask is None else mask
    return "|".join(["2", mask.hex(), _xor(mask, token).hex(), str(int(timestamp))])


def tokens_match(submitted: str | None, cookie: str | None) -> bool:
    """Whether a submitted token carries the same secret as the cookie (constant time)."""
    sent = decode_xsrf(submitted)
    expected = decode_xsrf(cookie)
    if sent is None or expected is None or not sent[1] or not expected[1]:
        return False
    return hmac.compare_digest(sent[1], expected[1])


def submitted_token(request: HttpRequest) -> str | None:
    """The token a request submits: ``_xsrf`` (query or form), else the XSRF headers.

    None when the request offers none in the places that count (``_xsrf`` only on a POST).
    """
    values = [*request.query.get_all(FORM_FIELD), *request.form.get_all(FORM_FIELD)]
    argument = values[-1] if values else None
    offered = request.method == "POST" and argument
    if not (offered or any(request.header(name) for name in TOKEN_HEADERS)):
        return None
    return argument or request.header(TOKEN_HEADERS[0]) or request.header(TOKEN_HEADERS[1]) or None


def has_valid_xsrf_token(request: HttpRequest, cookie_name: str) -> bool:
    """Whether the request carries the XSRF token matching its XSRF cookie."""
    return tokens_match(submitted_token(request), request.cookies.get(cookie_name))


class FormToken:
    """The token to embed in a page's form, and the cookie to set when the browser had none."""

    __slots__ = ("value", "set_cookie")

    def __init__(self, cookies: Mapping[str, str], cookie_name: str, samesite: str | None = None):
        decoded = decode_xsrf(cookies.get(cookie_name))
        if decoded is None:
            token, timestamp = os.urandom(16), int(time.time())
        else:
            token, timestamp = decoded[1], decoded[2]
        self.value = encode_xsrf(token, timestamp)
        #: A ``Set-Cookie`` value (as Tornado writes it) when the request had no usable cookie.
        #: ``samesite`` is the host's choice for its XSRF cookie (Streamlit 1.59+
        #: ``server.xsrfCookieSameSite``); "none" also needs Secure, as Streamlit sets it.
        attributes = "; Path=/"
        if samesite:
            attributes += f"; SameSite={samesite.capitalize()}" + ("; Secure" if samesite.lower() == "none" else "")
        self.set_cookie = None if decoded is not None else f"{cookie_name}={self.value}{attributes}"

    def form_html(self) -> str:
        return f'<input type="hidden" name="{FORM_FIELD}" value="{escape(self.value)}"/>'


def form_token(cookies: Mapping[str, str], cookie_name: str, samesite: str | None = None) -> FormToken:
    return FormToken(cookies, cookie_name, samesite)
