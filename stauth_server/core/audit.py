"""The audit trail: one JSON line per security-relevant fact, on the ``stauth.audit`` logger.

``audit("sign_in", user_id=..., request=..., provider="local")`` writes one JSON object
whose first keys are always, in this order: ``time`` (UTC, ISO 8601), ``event``,
``user_id``, ``client_ip``, ``user_agent``, ``path``, ``request_id``; the event's own
fields follow. A field whose name looks secret (password, token, cookie, code, state...)
is dropped, and every value is flattened to one line, so neither a secret nor a forged
second line can reach the trail. ``[auth.audit] file`` adds an owner-only rotating file.

No web framework here: the request is anything with ``client_ip``, ``path`` and
``header(name)`` (the endpoints' ``HttpRequest``), or an ``AuditRequest``. Code that runs
for a request but without it in hand (sessions, sign-in flows) finds it in
``request_scope``, which the web layer opens around that work.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import logging.handlers
import os
import re
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .errors import ConfigError

LOGGER = logging.getLogger("stauth.audit")
_WARN = logging.getLogger("stauth_server.audit")
if LOGGER.level == logging.NOTSET:
    LOGGER.setLevel(logging.INFO)  # INFO reaches the file even when the root logger is at WARNING

#: Every event name, and what it means (the README's table lists their fields).
EVENTS: Mapping[str, str] = {
    "sign_in": "a user signed in (any source)",
    "sign_in_failed": "a sign-in was refused",
    "sign_out": "a user signed out (/auth/logout, st.logout, sa.logout)",
    "session_revoked": "a session ended because its account changed (disabled, removed, new password)",
    "session_expired": "a session reached its absolute or idle expiry",
    "refresh_failed": "the provider refused or could not refresh a session's tokens",
    "page_denied": "a page rule kept a user or visitor from a page",
    "route_denied": "an @sa.route refused a request (401 or 403)",
    "throttled": "a password attempt was refused for too many failures",
    "bearer_rejected": "a bearer token was refused",
    "user_added": "streamlit-auth users add",
    "password_changed": "a local account's password changed (streamlit-auth users passwd, the account page)",
    "password_change_failed": "the account page refused a password change (wrong current password)",
    "user_disabled": "streamlit-auth users disable",
    "roles_changed": "an account's roles were changed from the command line",
    "second_factor_reset": "streamlit-auth users reset-2fa: an administrator removed an account's second factor",
    "passkeys_removed": "streamlit-auth users passkeys remove: an administrator removed passkeys",
    "invitation_sent": "streamlit-auth users invite: a new account with a link to set its password",
    "invitation_accepted": "an invited account set its password through its link (and is enabled)",
    "password_reset_requested": "someone asked for a password-reset link (sent or not, and why)",
    "password_reset": "a local account set a new password through a reset link (its sessions end)",
    "one_time_link_refused": "an invitation or reset link was refused (unknown, used, expired, password changed)",
    "second_factor_enrolled": "a local account set up a TOTP second factor (account page or sign-in)",
    "second_factor_disabled": "a local account turned its TOTP second factor off on the account page",
    "second_factor_failed": "a wrong, replayed or throttled second-factor code, or a wrong password (sign-in, "
                            "enrolment, disabling)",
    "recovery_code_used": "a local account signed in with one of its recovery codes",
    "passkey_added": "a local account registered a passkey on the account page",
    "passkey_add_failed": "adding a passkey was refused before its ceremony (wrong current password, throttled)",
    "passkey_removed": "a local account removed one of its passkeys on the account page",
    "passkey_sign_in_failed": "a passkey sign-in was refused (unknown passkey, replay, origin, sign count...)",
}

#: The keys every event starts with, in this order.
BASE_KEYS = ("time", "event", "user_id", "client_ip", "user_agent", "path", "request_id")
#: Field names never written (a second line of defence: callers pass no secrets).
SECRET_NAME = re.compile(
    r"pass|pwd|secret|token|cookie|authori[sz]|credential|nonce|verifier|hash|bearer|"
    r"(^|_)(code|state|key|sid|ticket|jwt)($|_)",
    re.IGNORECASE,
)
#: The longest a value may be once written (a user agent is attacker-chosen).
MAX_VALUE = 512
#: Characters some readers take for line ends that JSON leaves as they are.
_LINE_BREAKS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"})

T = TypeVar("T")


def new_request_id() -> str:
    """A fresh request id: 16 hex digits."""
    return secrets.token_hex(8)


class AuditRequest:
    """What the trail records of one request (or one page run), with its request id.

    ``source`` is anything with ``client_ip``, ``path`` and ``header(name)``; its facts are
    read only when an event is written. The id is made once, on first use.
    """

    __slots__ = ("source", "_request_id")

    def __init__(self, source: Any = None):
        self.source = source
        self._request_id: str | None = None

    @property
    def request_id(self) -> str:
        if self._request_id is None:
            self._request_id = new_request_id()
        return self._request_id

    @property
    def client_ip(self) -> str | None:
        return getattr(self.source, "client_ip", None)

    @property
    def path(self) -> str | None:
        return getattr(self.source, "path", None)

    @property
    def user_agent(self) -> str | None:
        header = getattr(self.source, "header", None)
        return (header("User-Agent") or None) if callable(header) else None


@dataclass(frozen=True)
class RequestFacts:
    """A request's facts given directly (a Streamlit page run has no HTTP request)."""

    client_ip: str | None = None
    path: str | None = None
    user_agent: str | None = None

    def header(self, name: str) -> str:
        return (self.user_agent or "") if name.lower() == "user-agent" else ""


_CURRENT: contextvars.ContextVar[AuditRequest | None] = contextvars.ContextVar("stauth_audit_request", default=None)


@contextmanager
def request_scope(request: Any) -> Iterator[AuditRequest]:
    """Events written inside belong to ``request`` (kept when it is already the current one)."""
    scope = scope_for(request)
    token = _CURRENT.set(scope)
    try:
        yield scope
    finally:
        _CURRENT.reset(token)


def scope_for(request: Any) -> AuditRequest:
    """The current scope when it is ``request``'s, else a new one (to hand to a thread)."""
    current = _CURRENT.get()
    if isinstance(request, AuditRequest):
        return request
    return current if current is not None and current.source is request else AuditRequest(request)


def in_request(request: Any, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` inside ``request_scope(request)``: for work sent to a thread."""
    with request_scope(request):
        return fn(*args, **kwargs)


def _clean(value: Any) -> Any:
    """A value as written: JSON-safe, bounded, one line whatever it holds."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_clean(item) for item in list(value)[:64]]
    text = value if isinstance(value, str) else str(value)
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates cannot be written
    return text[:MAX_VALUE] + ("…" if len(text) > MAX_VALUE else "")


def audit_line(event: str, *, user_id: str | None = None, request: Any = None,
               now: dt.datetime | None = None, **fields: Any) -> str:
    """The JSON line ``audit`` writes (see the module's docstring for its shape)."""
    scope = scope_for(request) if request is not None else _CURRENT.get()
    moment = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    record: dict[str, Any] = {
        "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "event": _clean(event),
        "user_id": _clean(user_id),
        "client_ip": _clean(scope.client_ip) if scope else None,
        "user_agent": _clean(scope.user_agent) if scope else None,
        "path": _clean(scope.path) if scope else None,
        "request_id": scope.request_id if scope else new_request_id(),
    }
    for name, value in fields.items():
        if name in record or SECRET_NAME.search(name):
            _WARN.warning("audit event %s: field %r is not written (reserved or secret-looking)", event, name)
            continue
        record[name] = _clean(value)
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).translate(_LINE_BREAKS)


def audit(event: str, *, user_id: str | None = None, request: Any = None, **fields: Any) -> None:
    """Write one audit event on ``stauth.audit`` (INFO). Never raises: an audit failure
    must not fail a sign-in; it is reported on ``stauth_server.audit`` instead."""
    if not LOGGER.isEnabledFor(logging.INFO):
        return
    try:
        line = audit_line(event, user_id=user_id, request=request, **fields)
    except Exception:  # noqa: BLE001 - see the docstring
        _WARN.exception("audit event %s could not be written", event)
        return
    LOGGER.info("%s", line, extra={"audit_event": event})


# --- [auth.audit]: the file -----------------------------------------------------------

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_BACKUPS = 5


@dataclass(frozen=True)
class AuditConfig:
    """``[auth.audit]``: where the trail is also written (besides the logger)."""

    file: Path
    max_bytes: int = DEFAULT_MAX_BYTES
    backups: int = DEFAULT_BACKUPS


def parse_audit(table: Any, app_dir: Path) -> AuditConfig | None:
    """Validate ``[auth.audit]`` (None when absent); ``file`` is relative to the app's folder.
    Unknown keys are warned about by ``core.options``, as in every section."""
    if table is None:
        return None
    if not isinstance(table, Mapping):
        raise ConfigError("[auth.audit]: expected a table such as { file = \"audit.jsonl\" }")
    file = table.get("file")
    if not isinstance(file, str) or not file.strip() or "\x00" in file or file.endswith(("/", "\\")):
        raise ConfigError(f"[auth.audit] file: expected the path of a file such as \"audit.jsonl\", got {file!r}")
    numbers = {}
    for key, default, low in (("max_bytes", DEFAULT_MAX_BYTES, 1024), ("backups", DEFAULT_BACKUPS, 1)):
        value = table.get(key, default)
        if type(value) is not int or value < low:  # bool is no number of bytes
            raise ConfigError(f"[auth.audit] {key}: expected a positive integer of at least {low}, got {value!r}")
        numbers[key] = value
    path = Path(file).expanduser()
    return AuditConfig(file=path if path.is_absolute() else app_dir / path, **numbers)


class OwnerOnlyRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating file whose every new file is created readable by its owner only (0600)."""

    def _open(self) -> Any:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return open(fd, self.mode, encoding=self.encoding, errors=self.errors)  # noqa: SIM115 - the handler owns it


def install_file(config: AuditConfig | None) -> logging.Handler | None:
    """Write the trail to ``config.file`` too (replacing a file installed before)."""
    for handler in list(LOGGER.handlers):
        if isinstance(handler, OwnerOnlyRotatingFileHandler):
            LOGGER.removeHandler(handler)
            handler.close()
    if config is None:
        return None
    try:
        config.file.parent.mkdir(parents=True, exist_ok=True)
        handler = OwnerOnlyRotatingFileHandler(config.file, maxBytes=config.max_bytes,
                                               backupCount=config.backups, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"[auth.audit] file: cannot write {config.file}: {exc.strerror or exc}") from None
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.setLevel(logging.INFO)
    LOGGER.addHandler(handler)
    return handler


__all__ = ["AuditConfig", "AuditRequest", "EVENTS", "RequestFacts", "audit", "audit_line",
           "in_request", "install_file", "new_request_id", "parse_audit", "request_scope", "scope_for"]
