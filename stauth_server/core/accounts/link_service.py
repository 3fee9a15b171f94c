"""The server's side of invitation and password-reset links: forgot-password requests and redeeming.

``request_reset`` answers at once, the same way for every account or none: the lookup,
the users file write and the e-mail happen on a background thread, so neither the answer
nor its timing tells whether an account exists. Requests are throttled per account (the
name or address typed, and the account found) and per client address; a throttled
request sends nothing. ``redeem`` sets a password through a link, with refused links
throttled per address. Without ``[auth.smtp]`` a link goes to the server log (``LogMailer``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from ..audit import audit, in_request
from ..identity import user_id
from ..sources.local import LocalAccount, UsersFile, UsersFileError
from ..throttle import Throttle
from .links import INVITE
from .mail import MailError, Mailer, SmtpConfig, mailer_for, password_reset_message
from .recovery_flows import LinkRefused, find_account, issue_reset, open_link, redeem, resettable

LOGGER = logging.getLogger("stauth_server.accounts")

#: The ``From`` of messages that only reach the server log (no ``[auth.smtp]``).
LOG_SENDER = "streamlit-auth@localhost"
#: Reset requests waiting for the mail thread at most; more are dropped (logged).
MAX_QUEUED = 100
#: Longest identifier (username or e-mail) looked up.
MAX_IDENTIFIER = 254


class LinkThrottled(Exception):
    """Too many refused links from this address; ``retry_after`` seconds to wait."""

    def __init__(self, retry_after: int):
        super().__init__(f"one-time links throttled for {retry_after} s")
        self.retry_after = retry_after
        self.user_message = f"Too many attempts. Try again in {retry_after} seconds."


def app_name(title: str, redirect_uri: str | None) -> str:
    """The app's name in messages: its login title, else its host."""
    if title != "Sign in" or not redirect_uri:
        return title
    return urlsplit(redirect_uri).hostname or title


class LinkService:
    """Reset requests and link redemption for one users file (one per server)."""

    def __init__(self, users: UsersFile, *, redirect_uri: str | None, smtp: SmtpConfig | None, app_title: str,
                 min_password_length: int, mailer: Mailer | None = None):
        self.users = users
        self.redirect_uri = redirect_uri
        self.mailer: Mailer = mailer if mailer is not None else mailer_for(smtp)
        self.sender = smtp.sender if smtp is not None else LOG_SENDER
        self.app_name = app_name(app_title, redirect_uri)
        self.min_password_length = min_password_length
        #: Reset mails per account (typed name and account found): three, then growing waits.
        self.account_throttle = Throttle(free=3, base_seconds=60.0, cap_seconds=3600.0)
        #: Reset requests per client address.
        self.address_throttle = Throttle(free=10, base_seconds=30.0, cap_seconds=3600.0)
        #: Refused links per client address.
        self.link_throttle = Throttle(free=5, base_seconds=2.0, cap_seconds=300.0)
        self._mail_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="stauth-mail")
        self._queued = 0
        self._queue_lock = threading.Lock()

    @property
    def resets_available(self) -> bool:
        """Whether reset links can be built: they need ``[auth] redirect_uri`` (never the request's Host)."""
        return self.redirect_uri is not None

    # --- forgot password --------------------------------------------------------------

    def request_reset(self, identifier: str, client_ip: str | None, scope: Any = None) -> Future[None] | None:
        """Take a reset request for ``identifier`` (username or e-mail) without blocking.

        Never raises and returns before any account is looked up: the link is issued and
        e-mailed on a background thread (its Future is returned; None when nothing is done:
        throttled, unavailable or the queue is full). ``scope``: the request's audit scope.
        """
        identifier = identifier.strip()[:MAX_IDENTIFIER]
        if not identifier or not self.resets_available:
            return None
        typed = f"typed:{identifier.casefold()}"
        wait = max(self.address_throttle.attempt([f"ip:{client_ip}"]), self.account_throttle.attempt([typed]))
        if wait > 0:
            audit("password_reset_requested", request=scope, username=identifier, sent=False, reason="throttled")
            return None
        with self._queue_lock:
            if self._queued >= MAX_QUEUED:
                LOGGER.warning("password reset request dropped: %d already waiting for the mail thread", self._queued)
                return None
            self._queued += 1
        return self._mail_pool.submit(self._done_queued, in_request, scope, self._issue_and_send, identifier)

    def _done_queued(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - a background job: report, never lose the thread
            LOGGER.exception("password reset request failed")
        finally:
            with self._queue_lock:
                self._queued -= 1

    def _issue_and_send(self, identifier: str) -> None:
        assert self.redirect_uri is not None
        try:
            found = find_account(self.users.accounts(), identifier)
            if not resettable(found):
                reason = "no_such_account" if found is None else "disabled" if found.disabled else "no_email"
                audit("password_reset_requested", user_id=user_id("local", found.username) if found else None,
                      username=identifier, sent=False, reason=reason)
                return
            assert found is not None
            if self.account_throttle.attempt([f"account:{found.username}"]) > 0:
                audit("password_reset_requested", user_id=user_id("local", found.username), sent=False,
                      reason="throttled")
                return
            issued = issue_reset(self.users, found.username, self.redirect_uri)
        except UsersFileError as exc:
            LOGGER.warning("password reset request not served: %s", exc)
            return
        if issued is None:  # disabled or removed a moment ago
            return
        account = issued.account
        uid = user_id("local", account.username)
        assert account.email is not None
        message = password_reset_message(sender=self.sender, to=account.email, link=issued.url, app_name=self.app_name)
        try:
            self.mailer.send(message, issued.url)
        except MailError as exc:
            LOGGER.warning("password reset link for %s not sent: %s", account.username, exc)
            audit("password_reset_requested", user_id=uid, sent=False, reason="mail_failed")
            return
        audit("password_reset_requested", user_id=uid, sent=True)

    # --- links ------------------------------------------------------------------------

    def _refused(self, client_ip: str | None) -> None:
        wait = self.link_throttle.wait_seconds([f"ip:{client_ip}"])
        if wait > 0:
            raise LinkThrottled(int(wait) + 1)

    def open(self, token: str, purpose: str) -> LocalAccount:
        """The account a valid link opens, changing nothing (blocks); ``LinkRefused``.

        Not throttled: looking changes nothing, and a 429 would put a live token in the
        server's access log (Tornado logs 4xx request lines with their query)."""
        return open_link(self.users, token, purpose)

    def redeem(self, token: str, purpose: str, new_password: str, client_ip: str | None) -> LocalAccount:
        """Set the password through a link (blocks: argon2); audited. ``LinkRefused``,
        ``LinkThrottled`` or ``PasswordRefused`` (the policy)."""
        self._refused(client_ip)
        try:
            account = redeem(self.users, token, purpose, new_password, min_length=self.min_password_length)
        except LinkRefused as exc:
            self.link_throttle.failure([f"ip:{client_ip}"])
            audit("one_time_link_refused", purpose=purpose, reason=exc.verdict.name.lower())
            raise
        event = "invitation_accepted" if purpose == INVITE else "password_reset"
        audit(event, user_id=user_id("local", account.username), provider="local")
        return account


__all__ = ["LOG_SENDER", "LinkService", "LinkThrottled", "MAX_QUEUED", "app_name"]
