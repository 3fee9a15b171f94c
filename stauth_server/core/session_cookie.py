"""The encrypted session cookie: sealing, opening, chunking, names and attributes.

A cookie's content is sealed with Fernet (AES-128-CBC + HMAC-SHA256, from
``cryptography``) under a key derived with HKDF-SHA256 from each configured cookie secret
and the cookie's purpose, so a login-state cookie can never be replayed as a session
cookie. ``MultiFernet`` seals with the newest secret and opens with any listed one:
rotating ``cookie_secrets`` logs nobody out.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SESSION_COOKIE = "stauth_session"
LOGIN_COOKIE = "stauth_login"
HOST_PREFIX = "__Host-"
#: Room for one chunk's value: browsers keep name + value up to 4096 bytes.
CHUNK_BYTES = 3800
MAX_CHUNKS = 12
_CHUNKED = "chunks:"


class CookieTooLarge(ValueError):
    """The sealed session would need more cookie chunks than browsers reliably keep."""


def _derive_key(secret: str, purpose: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"streamlit-auth/v1", info=purpose.encode())
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode("utf-8")))


class Sealer:
    """Seal and open JSON payloads for one purpose ("session", "login", ...)."""

    def __init__(self, secrets: Sequence[str], purpose: str):
        if not secrets:
            raise ValueError("at least one cookie secret is needed")
        self._fernet = MultiFernet([Fernet(_derive_key(secret, purpose)) for secret in secrets])

    def seal(self, payload: Mapping[str, Any]) -> str:
        data = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")
        return self._fernet.encrypt(data).decode("ascii")

    def open(self, token: str | None, max_age_seconds: int | None = None) -> dict[str, Any] | None:
        """The payload, or None for anything tampered, foreign, too old or not ours."""
        if not token or len(token) > CHUNK_BYTES * MAX_CHUNKS:
            return None
        try:
            data = self._fernet.decrypt(token.encode("ascii"), ttl=max_age_seconds)
            payload = json.loads(data)
        except (InvalidToken, UnicodeError, ValueError, TypeError):
            return None
        return payload if isinstance(payload, dict) else None


def cookie_name(base: str, *, secure: bool, path: str) -> str:
    """``__Host-`` prefixed where browsers allow it (https, Path=/), plain otherwise."""
    return f"{HOST_PREFIX}{base}" if secure and path == "/" else base


def candidate_names(base: str) -> tuple[str, str]:
    """Both names a cookie of ours may have (whichever the serving scheme chose)."""
    return f"{HOST_PREFIX}{base}", base


def split_value(name: str, value: str) -> dict[str, str]:
    """The cookies that carry ``value`` under ``name``: one, or a header plus chunks."""
    if len(value) <= CHUNK_BYTES:
        return {name: value}
    chunks = [value[i:i + CHUNK_BYTES] for i in range(0, len(value), CHUNK_BYTES)]
    if len(chunks) > MAX_CHUNKS:
        raise CookieTooLarge(
            f"the session needs {len(chunks)} cookies of {CHUNK_BYTES} bytes (at most {MAX_CHUNKS}); "
            "map fewer claims into it"
        )
    cookies = {name: f"{_CHUNKED}{len(chunks)}"}
    cookies.update({f"{name}.{index}": chunk for index, chunk in enumerate(chunks)})
    return cookies


def join_value(name: str, cookies: Mapping[str, str]) -> str | None:
    """Reassemble what ``split_value`` wrote; None when absent or incomplete."""
    head = cookies.get(name)
    if not head:
        return None
    if not head.startswith(_CHUNKED):
        return head
    try:
        count = int(head[len(_CHUNKED):])
    except ValueError:
        return None
    if not 1 <= count <= MAX_CHUNKS:
        return None
    parts = [cookies.get(f"{name}.{index}") for index in range(count)]
    if any(part is None for part in parts):
        return None
    return "".join(parts)  # type: ignore[arg-type]


def chunk_names(name: str, cookies: Mapping[str, str]) -> list[str]:
    """Every cookie the browser sent that belongs to ``name`` (head and chunks)."""
    return [n for n in cookies if n == name or (n.startswith(f"{name}.") and n[len(name) + 1:].isdigit())]
