"""Sending one-time links by e-mail: ``[auth.smtp]``, the mailers and the messages.

With ``[auth.smtp]`` the ``SmtpMailer`` sends through that server (STARTTLS by default,
with a verified certificate; a password never crosses a non-loopback network in the
clear). Without it the ``LogMailer`` writes each message's link to the server log at
WARNING: a development convenience, which ``needs_startup_warning`` flags when the server
listens on an address other computers can reach.

``SmtpMailer.send`` blocks (smtplib): call it off the event loop (``asyncio.to_thread``).
It raises ``MailError`` with a message that never holds the password.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol

from ..addresses import is_loopback
from ..errors import ConfigError
from .links import INVITE, LINK_LIFETIMES, RESET

LOGGER = logging.getLogger("stauth_server.mail")

DEFAULT_PORT = 587
#: Seconds for connecting and for each SMTP command.
SMTP_TIMEOUT_SECONDS = 10.0

STARTUP_WARNING = (
    "[auth.smtp] is not configured: invitation and password-reset links are written to the server "
    "log instead of being e-mailed. That is meant for development; configure [auth.smtp] before "
    "serving other computers."
)


class MailError(Exception):
    """A message could not be sent (the server is unreachable, refused TLS, the login or a recipient)."""


@dataclass(frozen=True)
class SmtpConfig:
    """``[auth.smtp]``: where and how messages are sent."""

    host: str
    sender: str
    port: int = DEFAULT_PORT
    starttls: bool = True
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def parse_smtp(table: object) -> SmtpConfig | None:
    """``[auth.smtp]`` checked (None when absent); ConfigError names the key."""
    if table is None:
        return None
    if not isinstance(table, Mapping):
        raise ConfigError("[auth.smtp]: expected a table with host and sender (and port, starttls, username, password)")
    host = _text(table, "host", required=True)
    sender = _text(table, "sender", required=True)
    assert host is not None and sender is not None
    if any(c.isspace() or c in "/@" for c in host):
        raise ConfigError(f"[auth.smtp] host: expected a host name or an IP address, got {host!r}")
    try:
        checked_address(sender)
    except ValueError:
        raise ConfigError(f"[auth.smtp] sender: expected an e-mail address such as \"app@example.org\", "
                          f"got {sender!r}") from None
    port = table.get("port", DEFAULT_PORT)
    if type(port) is not int or not 0 < port < 65536:
        raise ConfigError(f"[auth.smtp] port: expected a port number (587 for STARTTLS), got {port!r}")
    starttls = table.get("starttls", True)
    if not isinstance(starttls, bool):
        raise ConfigError(f"[auth.smtp] starttls: expected true or false, got {starttls!r}")
    username, password = _text(table, "username"), _text(table, "password")
    if (username is None) != (password is None):
        missing = "password" if password is None else "username"
        raise ConfigError(f"[auth.smtp] {missing}: missing; username and password go together")
    if password is not None and not starttls and not is_loopback_host(host):
        raise ConfigError(f"[auth.smtp] starttls: false would send the SMTP password in the clear to {host}; "
                          f"keep starttls = true (only a loopback server may go without)")
    return SmtpConfig(host=host, sender=sender, port=port, starttls=starttls, username=username, password=password)


def _text(table: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            raise ConfigError(f"[auth.smtp] {key}: missing; expected a string")
        return None
    if not isinstance(value, str) or not value.strip() or "\r" in value or "\n" in value:
        shown = "..." if key == "password" else repr(value)
        raise ConfigError(f"[auth.smtp] {key}: expected a non-empty string on one line, got {shown}")
    return value


#: Kept under this name for the mail module's callers (``core.addresses.is_loopback``).
is_loopback_host = is_loopback


def needs_startup_warning(smtp: SmtpConfig | None, server_address: str | None) -> bool:
    """Whether to log ``STARTUP_WARNING``: no SMTP, and listening beyond loopback."""
    return smtp is None and not is_loopback_host(server_address)


# --- mailers ----------------------------------------------------------------------------------------


class Mailer(Protocol):
    """Delivers ``message``, which carries the one-time ``link`` (the log mailer writes only that)."""

    def send(self, message: EmailMessage, link: str) -> None: ...


class SmtpMailer:
    """Sends through ``[auth.smtp]``: STARTTLS (certificate and host name verified) when
    configured, then AUTH when a username is set; ``MailError`` on any failure."""

    def __init__(self, config: SmtpConfig, *, ssl_context: ssl.SSLContext | None = None,
                 timeout: float = SMTP_TIMEOUT_SECONDS):
        self.config = config
        self._ssl_context = ssl_context
        self._timeout = timeout

    def send(self, message: EmailMessage, link: str) -> None:
        config = self.config
        where = f"{config.host}:{config.port}"
        try:
            with smtplib.SMTP(config.host, config.port, timeout=self._timeout) as smtp:
                if config.starttls:
                    smtp.starttls(context=self._ssl_context or ssl.create_default_context())
                if config.username is not None and config.password is not None:
                    smtp.login(config.username, config.password)
                smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(f"SMTP server {where} refused the login of {config.username!r} ({exc.smtp_code})") from None
        except smtplib.SMTPNotSupportedError as exc:  # no STARTTLS, AUTH or SMTPUTF8: never sent without
            raise MailError(f"SMTP server {where}: {exc} Nothing was sent") from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailError(f"SMTP server {where} refused the recipient(s) {sorted(exc.recipients)}") from None
        except smtplib.SMTPResponseException as exc:
            reply = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
            raise MailError(f"SMTP server {where} answered {exc.smtp_code} {reply[:200]}") from None
        except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
            raise MailError(f"could not send through SMTP server {where}: {type(exc).__name__}: {exc}") from None


class LogMailer:
    """No SMTP: writes each message's recipient, subject and link to the server log (WARNING)."""

    def send(self, message: EmailMessage, link: str) -> None:
        LOGGER.warning("no [auth.smtp]: not e-mailed to %s (%s); the link is %s",
                       message["To"], message["Subject"], link)


def mailer_for(smtp: SmtpConfig | None) -> Mailer:
    """The mailer ``[auth.smtp]`` asks for: SMTP when configured, the log otherwise."""
    return SmtpMailer(smtp) if smtp is not None else LogMailer()


# --- messages ---------------------------------------------------------------------------------------


def checked_address(address: str) -> str:
    """``address`` when it is one plain e-mail address (no display name, no header break)."""
    if not isinstance(address, str) or any(c in address for c in "\r\n\0") or address != address.strip():
        raise ValueError(f"not an e-mail address: {address!r}")
    try:
        parsed = Address(addr_spec=address)
    except (HeaderParseError, ValueError, IndexError):
        raise ValueError(f"not an e-mail address: {address!r}") from None
    if not parsed.username or not parsed.domain or parsed.addr_spec != address:
        raise ValueError(f"not an e-mail address: {address!r}")
    return address


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _checked_link(link: str) -> str:
    if not link.startswith(("https://", "http://")) or any(c.isspace() or ord(c) < 32 for c in link):
        raise ValueError(f"expected an absolute http(s) link, got {link!r}")
    return link


def _paragraphs(*paragraphs: str) -> str:
    """Plain text wrapped at 72 columns; a link stays whole on its own line."""
    return "\n\n".join(p if p.startswith(("https://", "http://")) else textwrap.fill(p, 72)
                        for p in paragraphs) + "\n"


def _message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = checked_address(sender)
    message["To"] = checked_address(to)
    message["Subject"] = _one_line(subject)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    # 7bit keeps the link readable as is; non-ASCII text (a name) needs an encoding.
    message.set_content(body, cte="7bit" if body.isascii() else None)
    return message


def _lifetime(purpose: str) -> str:
    seconds = LINK_LIFETIMES[purpose]
    return f"{seconds // 3600} hours" if seconds % 3600 == 0 else f"{seconds // 60} minutes"


def invitation_message(*, sender: str, to: str, link: str, app_name: str, name: str | None = None) -> EmailMessage:
    """The invitation: set your password through ``link`` (72 hours, once)."""
    app = _one_line(app_name)
    body = _paragraphs(
        f"Hello {_one_line(name)}," if name else "Hello,",
        f"You have been invited to {app}. Set your password here to activate your account:",
        _checked_link(link),
        f"This link works once and expires in {_lifetime(INVITE)}. If you were not expecting "
        f"this invitation, you can ignore this message.")
    return _message(sender, to, f"Your invitation to {app}: set your password", body)


def password_reset_message(*, sender: str, to: str, link: str, app_name: str) -> EmailMessage:
    """The password reset: choose a new password through ``link`` (30 minutes, once)."""
    app = _one_line(app_name)
    body = _paragraphs(
        "Hello,",
        f"Someone asked to reset the password of your account on {app}. To choose a new password, open:",
        _checked_link(link),
        f"This link works once and expires in {_lifetime(RESET)}. Setting a new password signs your "
        f"account out everywhere.",
        "If you did not ask for this, ignore this message: your password stays as it is.")
    return _message(sender, to, f"Reset your password for {app}", body)


__all__ = ["DEFAULT_PORT", "LogMailer", "MailError", "Mailer", "STARTUP_WARNING", "SmtpConfig", "SmtpMailer",
           "checked_address", "invitation_message", "is_loopback_host", "mailer_for", "needs_startup_warning",
           "parse_smtp", "password_reset_message"]
