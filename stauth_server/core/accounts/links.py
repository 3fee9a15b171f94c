"""One-time links: an invitation (set your password, 72 h) and a password reset (30 min).

A link carries a random token (256 bits, URL-safe); only its SHA-256 hash is stored, with
the link's purpose, its expiry and a fingerprint of the account's password hash when it
was issued. ``check_link`` accepts a token only when all four agree: so a link dies when
it expires, when it is used for something else, when it has been used (the caller deletes
the stored record on success) and when the password changes in between.

Storage-agnostic: ``issue_link`` returns the record to store (a plain dict) and
``check_link`` reads one back; where records live is the caller's business.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from typing import Any, TypedDict
from urllib.parse import quote, urlsplit

from ..session_records import credential_fingerprint

#: Purposes, and how long each link works (seconds).
INVITE = "invite"
RESET = "reset"
LINK_LIFETIMES: Mapping[str, int] = {INVITE: 72 * 3600, RESET: 30 * 60}

#: Random bytes in a token: 256 bits.
TOKEN_BYTES = 32
#: What a token of ours looks like (anything else is refused before hashing).
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,128}")
_HASH_SHAPE = re.compile(r"[0-9a-f]{64}")
CALLBACK_SUFFIX = "/oauth2callback"
_LINK_PATH = re.compile(r"[a-z0-9-]+(/[a-z0-9-]+)*")


class StoredLink(TypedDict):
    """What is kept for an issued link: never the token itself."""

    hash: str
    purpose: str
    expires_at: float
    password_fingerprint: str


class LinkVerdict(enum.Enum):
    """What ``check_link`` found. Only ``VALID`` lets the caller act; tell users apart from
    ``VALID`` at most "this link is invalid or has expired"."""

    VALID = "valid"
    UNKNOWN = "unknown"  # no record (never issued, or already used) or a malformed one
    WRONG_TOKEN = "wrong token"
    WRONG_PURPOSE = "wrong purpose"
    EXPIRED = "expired"
    PASSWORD_CHANGED = "password changed"

    @property
    def ok(self) -> bool:
        return self is LinkVerdict.VALID


def token_hash(token: str) -> str:
    """The stored form of a token (SHA-256, hex): 256 random bits need no slow hash."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_link_token() -> tuple[str, str]:
    """A fresh ``(token, token_hash)``: the token goes in the link, only the hash is stored."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_hash(token)


def password_fingerprint(password_hash: str | None) -> str:
    """The fingerprint of an account's password hash (an invited account has none yet)."""
    return credential_fingerprint(password_hash or "")


def issue_link(purpose: str, password_hash: str | None, now: float) -> tuple[str, StoredLink]:
    """A new link's token (for the URL) and the record to store for it."""
    if purpose not in LINK_LIFETIMES:
        raise ValueError(f"unknown link purpose {purpose!r}; expected one of {sorted(LINK_LIFETIMES)}")
    token, hashed = new_link_token()
    return token, StoredLink(hash=hashed, purpose=purpose, expires_at=now + LINK_LIFETIMES[purpose],
                             password_fingerprint=password_fingerprint(password_hash))


def link_url(redirect_uri: str, path: str, token: str) -> str:
    """``<origin><base path>/auth/<path>?token=<token>``, from ``[auth] redirect_uri``.

    The base path is the redirect URI's path without ``/oauth2callback`` (so it follows
    ``server.baseUrlPath``); ``path`` is ours (``"reset"``, ``"invite"``), never user input.
    """
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or not parts.netloc or not parts.path.endswith(CALLBACK_SUFFIX):
        raise ValueError(f"expected an absolute http(s) redirect URI ending in {CALLBACK_SUFFIX}, got {redirect_uri!r}")
    if not _LINK_PATH.fullmatch(path):
        raise ValueError(f"expected a path such as 'reset', got {path!r}")
    base = parts.path[: -len(CALLBACK_SUFFIX)].rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{base}/auth/{path}?token={quote(token, safe='')}"


def check_link(token: str, stored: Mapping[str, Any] | None, purpose: str, now: float,
               current_password_fingerprint: str) -> LinkVerdict:
    """Whether ``token`` opens ``stored`` for ``purpose`` at ``now`` (timing-safe).

    ``stored``: the record ``issue_link`` returned, or None when there is none (never issued,
    or used: the caller deletes the record when a link is used); a malformed record is
    ``UNKNOWN``. The token is checked before anything else the record says, so a caller
    without it learns nothing more (purpose, expiry) from the verdict.
    """
    if stored is None:
        return LinkVerdict.UNKNOWN
    expected, kind = stored.get("hash"), stored.get("purpose")
    expires_at, fingerprint = stored.get("expires_at"), stored.get("password_fingerprint")
    if (not isinstance(expected, str) or not _HASH_SHAPE.fullmatch(expected) or not isinstance(kind, str)
            or not isinstance(fingerprint, str) or not isinstance(expires_at, (int, float))
            or isinstance(expires_at, bool)):
        return LinkVerdict.UNKNOWN
    if not isinstance(token, str) or not _TOKEN_SHAPE.fullmatch(token):
        return LinkVerdict.WRONG_TOKEN
    if not hmac.compare_digest(token_hash(token), expected):
        return LinkVerdict.WRONG_TOKEN
    if kind != purpose:
        return LinkVerdict.WRONG_PURPOSE
    if not now < expires_at:
        return LinkVerdict.EXPIRED
    if not hmac.compare_digest(_utf8(fingerprint), _utf8(current_password_fingerprint)):
        return LinkVerdict.PASSWORD_CHANGED
    return LinkVerdict.VALID


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


__all__ = ["INVITE", "LINK_LIFETIMES", "RESET", "LinkVerdict", "StoredLink", "check_link", "issue_link",
           "link_url", "new_link_token", "password_fingerprint", "token_hash"]
