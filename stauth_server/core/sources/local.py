"""Local accounts: a TOML users file with argon2id password hashes.

::

    [users.alice]
    password_hash = "$argon2id$v=19$m=65536,t=3,p=4$..."
    email = "alice@example.org"
    name = "Alice Example"
    roles = ["admin"]
    disabled = false

Personal API tokens (``core.api_tokens``) live in the same file, under ``[api_tokens]``.
Written by ``streamlit-auth users`` and ``tokens``; re-read when it changes. Unknown users and wrong
passwords get the same answer after the same work (a dummy hash is verified).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..api_tokens import ApiToken, ApiTokensError, parse_tokens, render_tokens

try:  # Python 3.11+
    import tomllib as _toml_reader
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import toml as _toml_reader  # type: ignore[no-redef]

#: argon2id with argon2-cffi's defaults (RFC 9106 "low memory": t=3, m=64 MiB, p=4).
HASHER = PasswordHasher()
USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@+")
MAX_PASSWORD = 1024


class UsersFileError(ValueError):
    """The users file is missing or malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class LocalAccount:
    username: str
    password_hash: str
    email: str | None = None
    name: str | None = None
    roles: tuple[str, ...] = ()
    disabled: bool = False

    def claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = {"sub": self.username, "preferred_username": self.username,
                                  "name": self.name or self.username}
        if self.email:
            claims.update(email=self.email, email_verified=True)
        return claims


def valid_username(username: str) -> bool:
    return 0 < len(username) <= 128 and all(c in USERNAME_CHARS for c in username)


def _parse(path: Path, text: str) -> dict[str, LocalAccount]:
    try:
        data = _toml_reader.loads(text)
    except Exception as exc:
        raise UsersFileError(f"{path}: not valid TOML ({exc})") from None
    users = data.get("users", {})
    if not isinstance(users, Mapping):
        raise UsersFileError(f"{path}: expected [users.NAME] tables")
    accounts: dict[str, LocalAccount] = {}
    for username, entry in users.items():
        where = f"{path} [users.{username}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("password_hash"), str):
            raise UsersFileError(f"{where}: password_hash missing")
        if not valid_username(str(username)):
            raise UsersFileError(f"{where}: usernames use letters, digits and . _ - @ +")
        roles = entry.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise UsersFileError(f"{where}: roles must be a list of strings")
        for key in ("email", "name"):
            if entry.get(key) is not None and not isinstance(entry[key], str):
                raise UsersFileError(f"{where}: {key} must be a string")
        accounts[str(username)] = LocalAccount(
            username=str(username), password_hash=entry["password_hash"],
            email=entry.get("email") or None, name=entry.get("name") or None,
            roles=tuple(roles), disabled=bool(entry.get("disabled", False)),
        )
    return accounts


def _parse_tokens(path: Path, text: str) -> dict[str, ApiToken]:
    try:
        return parse_tokens(_toml_reader.loads(text).get("api_tokens"), str(path))
    except ApiTokensError as exc:
        raise UsersFileError(str(exc)) from None
    except Exception as exc:
        raise UsersFileError(f"{path}: not valid TOML ({exc})") from None


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def render(accounts: Iterable[LocalAccount]) -> str:
    """The users file's text for these accounts."""
    lines = ["# streamlit-auth local accounts: edit with `streamlit-auth users ...`", ""]
    for account in sorted(accounts, key=lambda a: a.username):
        lines.append(f"[users.{_quote(account.username)}]")
        lines.append(f"password_hash = {_quote(account.password_hash)}")
        if account.email:
            lines.append(f"email = {_quote(account.email)}")
        if account.name:
            lines.append(f"name = {_quote(account.name)}")
        lines.append("roles = [" + ", ".join(_quote(r) for r in account.roles) + "]")
        lines.append(f"disabled = {'true' if account.disabled else 'false'}")
        lines.append("")
    return "\n".join(lines)


@dataclass
class UsersFile:
    """The accounts of one users file, re-read whenever its modification time changes."""

    path: Path
    _accounts: dict[str, LocalAccount] = field(default_factory=dict)
    _tokens: dict[str, ApiToken] = field(default_factory=dict)
    _stamp: tuple[int, int, int, int] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def accounts(self) -> dict[str, LocalAccount]:
        with self._lock:
            try:
                stat = self.path.stat()
            except OSError:
                raise UsersFileError(f"{self.path}: no such users file") from None
            # Every save replaces the file (a new inode): a rewrite within one clock tick
            # that keeps the size (a new password hash) is still noticed.
            stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino, stat.st_ctime_ns)
            if stamp != self._stamp:
                text = self.path.read_text(encoding="utf-8")
                self._accounts = _parse(self.path, text)
                self._tokens = _parse_tokens(self.path, text)
                self._stamp = stamp
            return dict(self._accounts)

    def api_tokens(self) -> dict[str, ApiToken]:
        """The personal API tokens stored in the file (hashes only), by id."""
        self.accounts()
        with self._lock:
            return dict(self._tokens)

    def save(self, accounts: Iterable[LocalAccount], api_tokens: Iterable[ApiToken] | None = None) -> None:
        """Write atomically (a temporary file renamed over the old one), owner-only.

        ``api_tokens``: the tokens to keep; None keeps those the file holds now.
        """
        if api_tokens is None:
            api_tokens = self.api_tokens().values() if self.path.exists() else ()
        text = render(accounts) + render_tokens(api_tokens)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)  # 0600, never reused
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


_DUMMY_HASH = HASHER.hash("streamlit-auth: a password nobody has")


def verify(users: UsersFile, username: str, password: str) -> LocalAccount | None:
    """The account when ``password`` is right and the account enabled, else None.

    The same argon2 work is done for an unknown user as for a known one.
    """
    account = users.accounts().get(username) if valid_username(username) else None
    target = account.password_hash if account is not None else _DUMMY_HASH
    try:
        HASHER.verify(target, password[:MAX_PASSWORD])
        ok = account is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok or account is None or account.disabled:
        return None
    return account


def hash_password(password: str) -> str:
    return HASHER.hash(password)
