"""Local accounts: a TOML users file with argon2id password hashes.

::

    [users.alice]
    password_hash = "$argon2id$v=19$m=65536,t=3,p=4$..."
    email = "alice@example.org"
    name = "Alice Example"
    roles = ["admin"]
    disabled = false
    # the second factor and passkeys (core.accounts), all optional:
    totp_secret = "gAAAAA..."        # sealed with a key derived from the cookie secrets
    totp_last_step = 58838612        # the last accepted TOTP time step (codes are single use)
    recovery_codes = ["<sha256 hex>", ...]
    passkeys = [{id = "<base64url>", public_key = "<base64url>", sign_count = 3, name = "laptop", created = 1764460800,
                 user_handle = "<base64url>"}]   # user_handle: optional (a passkey without one cannot sign in)
    one_time_tokens = [{hash = "<sha256 hex>", purpose = "reset", expires_at = 1764462600,
                        password_fingerprint = "<hex>"}]

Older files (without the optional keys) read as before; a key this version does not know
is refused with a message naming the entry, so a newer file is never half-understood and
rewritten without its data. Personal API tokens (``core.api_tokens``) live in the same
file, under ``[api_tokens]``.

Every change goes through ``UsersFile.update``: under an exclusive lock on a sibling lock
file it re-reads the file, applies the change and replaces the file atomically, so the
command line and the server changing it at the same moment both keep their change. Unknown
users and wrong passwords get the same answer after the same work (a dummy hash is verified).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

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


T = TypeVar("T")
ACCOUNT_KEYS = frozenset({"password_hash", "email", "name", "roles", "disabled", "totp_secret", "totp_last_step",
                          "recovery_codes", "passkeys", "one_time_tokens"})
PASSKEY_KEYS = frozenset({"id", "public_key", "sign_count", "name", "created"})
OPTIONAL_PASSKEY_KEYS = frozenset({"user_handle"})
ONE_TIME_TOKEN_KEYS = frozenset({"hash", "purpose", "expires_at", "password_fingerprint"})


class UsersFileError(ValueError):
    """The users file is missing or malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Passkey:
    """A registered WebAuthn credential, as plain data (the WebAuthn checks live elsewhere)."""

    credential_id: str  #: base64url, as the authenticator gave it
    public_key: str  #: base64url COSE key
    sign_count: int
    name: str
    created: int  #: Unix time
    #: base64url WebAuthn user handle the credential was registered with (one per account);
    #: a discoverable sign-in must return it. "": none stored (such a passkey cannot sign in).
    user_handle: str = ""


@dataclass(frozen=True)
class OneTimeToken:
    """A one-time link's stored record (``core.accounts.links.StoredLink``): never the token."""

    hash: str  #: SHA-256 hex of the token
    purpose: str
    expires_at: float  #: Unix time
    password_fingerprint: str

    def as_stored(self) -> dict[str, Any]:
        """The record as ``core.accounts.links.check_link`` reads it."""
        return {"hash": self.hash, "purpose": self.purpose, "expires_at": self.expires_at,
                "password_fingerprint": self.password_fingerprint}


@dataclass(frozen=True)
class LocalAccount:
    username: str
    password_hash: str
    email: str | None = None
    name: str | None = None
    roles: tuple[str, ...] = ()
    disabled: bool = False
    #: The TOTP secret sealed by ``core.accounts.secret_box``; None: no second factor.
    totp_secret: str | None = None
    #: The last accepted TOTP time step: a code of this step or an earlier one is refused.
    totp_last_step: int | None = None
    #: SHA-256 hashes of the unused recovery codes (``core.accounts.recovery``).
    recovery_codes: tuple[str, ...] = ()
    passkeys: tuple[Passkey, ...] = ()
    one_time_tokens: tuple[OneTimeToken, ...] = ()

    @property
    def has_second_factor(self) -> bool:
        return self.totp_secret is not None

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
        for key in ("email", "name", "totp_secret"):
            if entry.get(key) is not None and not isinstance(entry[key], str):
                raise UsersFileError(f"{where}: {key} must be a string")
        unknown = sorted(set(entry) - ACCOUNT_KEYS)
        if unknown:
            raise UsersFileError(f"{where}: unknown key {unknown[0]!r} (written by a newer streamlit-auth?); "
                                 f"known keys: {', '.join(sorted(ACCOUNT_KEYS))}")
        accounts[str(username)] = LocalAccount(
            username=str(username), password_hash=entry["password_hash"],
            email=entry.get("email") or None, name=entry.get("name") or None,
            roles=tuple(roles), disabled=bool(entry.get("disabled", False)),
            totp_secret=entry.get("totp_secret") or None,
            totp_last_step=_optional_count(entry, "totp_last_step", where),
            recovery_codes=_hashes(entry.get("recovery_codes", []), f"{where} recovery_codes"),
            passkeys=_passkeys(entry.get("passkeys", []), where),
            one_time_tokens=_one_time_tokens(entry.get("one_time_tokens", []), where),
        )
    return accounts


def _optional_count(table: Mapping[str, Any], key: str, where: str) -> int | None:
    value = table.get(key)
    if value is not None and (type(value) is not int or value < 0):
        raise UsersFileError(f"{where}: {key} must be a non-negative integer")
    return value


def _hashes(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(_is_sha256_hex(item) for item in value):
        raise UsersFileError(f"{where}: expected a list of SHA-256 hex digests")
    return tuple(value)


def _is_sha256_hex(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def _records(value: Any, where: str, known: frozenset[str],
             optional: frozenset[str] = frozenset()) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if not isinstance(value, list):
        raise UsersFileError(f"{where}: expected a list of tables")
    for index, item in enumerate(value):
        here = f"{where}[{index}]"
        if not isinstance(item, Mapping):
            raise UsersFileError(f"{here}: expected a table")
        unknown = sorted(set(item) - known - optional)
        missing = sorted(known - set(item))
        if unknown:
            raise UsersFileError(f"{here}: unknown key {unknown[0]!r} (written by a newer streamlit-auth?)")
        if missing:
            raise UsersFileError(f"{here}: {missing[0]} missing")
        yield here, item


def _passkeys(value: Any, where: str) -> tuple[Passkey, ...]:
    passkeys: list[Passkey] = []
    for here, item in _records(value, f"{where} passkeys", PASSKEY_KEYS, OPTIONAL_PASSKEY_KEYS):
        for key in ("id", "public_key", "name"):
            if not isinstance(item[key], str) or not item[key]:
                raise UsersFileError(f"{here}: {key} must be a non-empty string")
        if not isinstance(item.get("user_handle", ""), str):
            raise UsersFileError(f"{here}: user_handle must be a string")
        for key in ("sign_count", "created"):
            _optional_count(item, key, here)
        if any(p.credential_id == item["id"] for p in passkeys):
            raise UsersFileError(f"{here}: a second passkey with id {item['id']!r}")
        passkeys.append(Passkey(item["id"], item["public_key"], item["sign_count"], item["name"], item["created"],
                                item.get("user_handle", "")))
    return tuple(passkeys)


def _one_time_tokens(value: Any, where: str) -> tuple[OneTimeToken, ...]:
    tokens: list[OneTimeToken] = []
    for here, item in _records(value, f"{where} one_time_tokens", ONE_TIME_TOKEN_KEYS):
        if not _is_sha256_hex(item["hash"]):
            raise UsersFileError(f"{here}: hash must be a SHA-256 hex digest")
        for key in ("purpose", "password_fingerprint"):
            if not isinstance(item[key], str) or not item[key]:
                raise UsersFileError(f"{here}: {key} must be a non-empty string")
        expires_at = item["expires_at"]
        if not isinstance(expires_at, (int, float)) or isinstance(expires_at, bool) or not 0 <= expires_at < 2**53:
            raise UsersFileError(f"{here}: expires_at must be a Unix time")
        tokens.append(OneTimeToken(item["hash"], item["purpose"], float(expires_at), item["password_fingerprint"]))
    return tuple(tokens)


def _parse_tokens(path: Path, text: str) -> dict[str, ApiToken]:
    try:
        return parse_tokens(_toml_reader.loads(text).get("api_tokens"), str(path))
    except ApiTokensError as exc:
        raise UsersFileError(str(exc)) from None
    except Exception as exc:
        raise UsersFileError(f"{path}: not valid TOML ({exc})") from None


def _quote(value: str) -> str:
    # A JSON string is a TOML basic string, but for DEL: JSON leaves it raw, TOML refuses it
    # (a name with one would make the whole file unreadable), so it is escaped too.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


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
        if account.totp_secret is not None:
            lines.append(f"totp_secret = {_quote(account.totp_secret)}")
        if account.totp_last_step is not None:
            lines.append(f"totp_last_step = {int(account.totp_last_step)}")
        if account.recovery_codes:
            lines.append("recovery_codes = [" + ", ".join(_quote(h) for h in account.recovery_codes) + "]")
        if account.passkeys:
            lines.append("passkeys = [")
            lines.extend(f"    {{id = {_quote(p.credential_id)}, public_key = {_quote(p.public_key)}, "
                         f"sign_count = {int(p.sign_count)}, name = {_quote(p.name)}, created = {int(p.created)}"
                         + (f", user_handle = {_quote(p.user_handle)}" if p.user_handle else "") + "},"
                         for p in account.passkeys)
            lines.append("]")
        if account.one_time_tokens:
            lines.append("one_time_tokens = [")
            lines.extend(f"    {{hash = {_quote(t.hash)}, purpose = {_quote(t.purpose)}, "
                         f"expires_at = {_number(t.expires_at)}, "
                         f"password_fingerprint = {_quote(t.password_fingerprint)}}},"
                         for t in account.one_time_tokens)
            lines.append("]")
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

    def update(self, change: Callable[[dict[str, LocalAccount]], T]) -> T:
        """Apply ``change`` to the accounts as they are on disk now, under the file lock.

        ``change`` edits the dict it is given (add, replace or delete accounts) and may
        return a value, which ``update`` returns. The file is re-read under the lock and
        rewritten only when the accounts changed; when ``change`` raises, nothing is written.
        A missing file starts empty (and is created if ``change`` adds an account).
        """
        return self.update_with_tokens(lambda accounts, _tokens: change(accounts))

    def update_with_tokens(self, change: Callable[[dict[str, LocalAccount], dict[str, ApiToken]], T], *,
                           always_write: bool = False) -> T:
        """``update``, with the personal API tokens (by id) also editable by ``change``."""
        with self._exclusive():
            try:
                text = self.path.read_text(encoding="utf-8")
            except FileNotFoundError:
                text = None
            accounts = _parse(self.path, text) if text is not None else {}
            tokens = _parse_tokens(self.path, text) if text is not None else {}
            before = (dict(accounts), dict(tokens))
            result = change(accounts, tokens)
            if always_write or (accounts, tokens) != before:
                self._write(accounts.values(), tokens.values())
            return result

    def save(self, accounts: Iterable[LocalAccount], api_tokens: Iterable[ApiToken] | None = None) -> None:
        """Replace the file's accounts (and tokens) with these, under the file lock.

        ``api_tokens``: the tokens to keep; None keeps those the file holds now. Prefer
        ``update``, which cannot lose a change made since the accounts were read.
        """
        accounts = list(accounts)
        kept = None if api_tokens is None else list(api_tokens)

        def replace(current: dict[str, LocalAccount], tokens: dict[str, ApiToken]) -> None:
            current.clear()
            current.update((a.username, a) for a in accounts)
            if kept is not None:
                tokens.clear()
                tokens.update((t.id, t) for t in kept)

        self.update_with_tokens(replace, always_write=True)

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """An exclusive ``flock`` on ``.NAME.lock`` beside the file (between processes and threads)."""
        lock_path = self.path.parent / f".{self.path.name}.lock"
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise UsersFileError(f"{self.path}: cannot create its lock file {lock_path} ({exc.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _write(self, accounts: Iterable[LocalAccount], api_tokens: Iterable[ApiToken]) -> None:
        """Write atomically (a temporary file renamed over the old one), owner-only."""
        text = render(accounts) + render_tokens(api_tokens)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)  # 0600, never reused
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
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
