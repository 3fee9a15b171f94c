"""Personal API tokens of local accounts, kept in the users file as hashes only.

::

    [api_tokens."3f9c2a1b"]
    user = "alice"
    name = "nightly-report"
    sha256 = "9b1d..."          # SHA-256 of the token; the token itself is shown once
    created = 1767225600
    expires = 1774998000        # absent: never expires

A token is ``sat_`` and 43 random URL-safe characters (256 bits), so a SHA-256 of it is
enough (no salt or slow hash is needed for a secret nobody can guess). Written by
``streamlit-auth tokens``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: Every personal API token starts with this, so secret scanners and people recognise it.
TOKEN_PREFIX = "sat_"
MAX_TOKEN_LENGTH = 256


class ApiTokensError(ValueError):
    """The ``[api_tokens]`` table of a users file is malformed; the message says where."""


@dataclass(frozen=True)
class ApiToken:
    """One stored token: never the token itself, only its hash."""

    id: str
    user: str
    name: str
    sha256: str
    created: int
    expires: int | None = None

    def expired(self, now: float | None = None) -> bool:
        return self.expires is not None and self.expires <= (time.time() if now is None else now)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue(user: str, name: str | None, lifetime: int | None, now: float | None = None) -> tuple[str, ApiToken]:
    """A new token (to show once) and its record (to store); ``lifetime`` in seconds or None."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = secrets.token_hex(4)
    created = int(time.time() if now is None else now)
    record = ApiToken(id=token_id, user=user, name=name or token_id, sha256=token_hash(token), created=created,
                      expires=created + lifetime if lifetime is not None else None)
    return token, record


def looks_like_api_token(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX)


def find(tokens: Iterable[ApiToken], token: str) -> ApiToken | None:
    """The stored record of ``token``, compared in constant time against every record."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    digest = token_hash(token).encode()
    found = None
    for record in tokens:
        if hmac.compare_digest(record.sha256.encode(), digest):
            found = record
    return found


def parse_tokens(table: object, where: str) -> dict[str, ApiToken]:
    """The ``[api_tokens]`` table of a users file, by id."""
    if table is None:
        return {}
    if not isinstance(table, Mapping):
        raise ApiTokensError(f"{where} [api_tokens]: expected tables of tokens")
    tokens: dict[str, ApiToken] = {}
    for token_id, entry in table.items():
        place = f"{where} [api_tokens.{token_id}]"
        if not isinstance(entry, Mapping):
            raise ApiTokensError(f"{place}: expected a table")
        texts = [entry.get(key) for key in ("user", "name", "sha256")]
        if not all(isinstance(text, str) and text for text in texts):
            raise ApiTokensError(f"{place}: user, name and sha256 must be strings")
        created, expires = entry.get("created"), entry.get("expires")
        if not _whole(created) or not (expires is None or _whole(expires)):
            raise ApiTokensError(f"{place}: created and expires must be Unix times")
        tokens[str(token_id)] = ApiToken(str(token_id), *texts, created, expires)  # type: ignore[arg-type]
    return tokens


def render_tokens(tokens: Iterable[ApiToken]) -> str:
    """The ``[api_tokens]`` tables for these records (appended to the users file)."""
    lines: list[str] = []
    for record in sorted(tokens, key=lambda t: (t.user, t.created, t.id)):
        lines.append(f"[api_tokens.{_quote(record.id)}]")
        lines += [f"user = {_quote(record.user)}", f"name = {_quote(record.name)}",
                  f"sha256 = {_quote(record.sha256)}", f"created = {record.created}"]
        if record.expires is not None:
            lines.append(f"expires = {record.expires}")
        lines.append("")
    return "\n" + "\n".join(lines) if lines else ""


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _quote(value: str) -> str:
    # A JSON string is a TOML basic string, but for DEL: JSON leaves it raw, TOML refuses it
    # (a name with one would make the whole file unreadable), so it is escaped too.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
