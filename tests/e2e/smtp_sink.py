"""A real SMTP server on a free loopback port (aiosmtpd) that keeps what it receives.

``smtp_sink()`` runs it in a thread for the ``with`` block; tests read ``sink.messages``
(parsed ``EmailMessage`` objects) or wait for one with ``sink.wait_for(count)``. It can
offer STARTTLS (``tls=(cert_file, key_file)``, e.g. from ``ldap_server.issue_server_cert``),
insist on it (``require_starttls``) and require AUTH with fixed ``logins``. No root needed.
"""

from __future__ import annotations

import email
import email.policy
import re
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from .harness import free_port

_LINK = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class Received:
    """One message as the server saw it: the envelope, TLS, the login and the parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    over_tls: bool
    login: str | None

    @property
    def body(self) -> str:
        return str(self.message.get_content())

    @property
    def links(self) -> list[str]:
        """The http(s) links in the plain-text body."""
        return _LINK.findall(self.body)


@dataclass
class SmtpSink:
    """A running sink: where it listens and what it received so far."""

    host: str
    port: int
    received: list[Received] = field(default_factory=list)
    _arrived: threading.Condition = field(default_factory=threading.Condition, repr=False)

    @property
    def messages(self) -> list[EmailMessage]:
        with self._arrived:
            return [r.message for r in self.received]

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[Received]:
        """The first ``count`` messages, waiting up to ``timeout`` seconds for them."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"the SMTP sink received {len(self.received)} message(s), expected {count}")
                self._arrived.wait(left)
            return list(self.received[:count])

    def _keep(self, item: Received) -> None:
        with self._arrived:
            self.received.append(item)
            self._arrived.notify_all()


class _Handler:
    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        login = session.login_data.decode("utf-8") if session.login_data else None
        self.sink._keep(Received(mail_from=envelope.mail_from, rcpt_tos=tuple(envelope.rcpt_tos),
                                 message=message, over_tls=session.ssl is not None, login=login))
        return "250 OK"


def _authenticator(logins: Mapping[str, str]) -> Any:
    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = auth_data.login.decode("utf-8"), auth_data.password.decode("utf-8")
        return AuthResult(success=logins.get(user) == password, handled=False, auth_data=auth_data)
    return authenticate


@contextmanager
def smtp_sink(*, tls: tuple[Path, Path] | None = None, require_starttls: bool = False,
              logins: Mapping[str, str] | None = None, auth_require_tls: bool = True) -> Iterator[SmtpSink]:
    """An SMTP server on ``127.0.0.1:<free port>`` for the block.

    ``tls``: (certificate, key) files, to offer STARTTLS; ``logins``: {user: password}, to
    require AUTH (over TLS unless ``auth_require_tls`` is false).
    """
    tls_context = None
    if tls is not None:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(str(tls[0]), str(tls[1]))
    sink = SmtpSink(host="127.0.0.1", port=free_port())
    controller = Controller(
        _Handler(sink), hostname=sink.host, port=sink.port, server_hostname="sink.test",
        tls_context=tls_context, require_starttls=require_starttls,
        authenticator=_authenticator(logins) if logins is not None else None,
        auth_required=logins is not None, auth_require_tls=auth_require_tls,
    )
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
