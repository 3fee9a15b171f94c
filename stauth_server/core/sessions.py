"""Sessions: starting, finding, checking, refreshing and ending them. No HTTP here.

A session is a server record (``SessionData``, encrypted in the store) found and unlocked
by the ticket in the browser's cookie. Who the user is, and which roles they have, is
computed at each use from the record's claims and the *current* ``[auth.roles]`` and users
file: a disabled account, a changed password or a removed role takes effect at the next
request. Every method may block on the store: call them off the event loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .audit import audit
from .config import ServerConfig
from .identity import ANONYMOUS, User, user_from_claims, user_id
from .roles import DEFAULT_GROUP_CLAIMS
from .session_cookie import SESSION_COOKIE, Sealer, candidate_names, chunk_names, cookie_name, join_value, split_value
from .sources.local import UsersFile, UsersFileError
from .session_records import Session, SessionData, Ticket, credential_fingerprint
from .store import SessionStore, StoreUnavailable

LOGGER = logging.getLogger("stauth_server.sessions")
#: Write last_seen to the store at most this often per session.
TOUCH_INTERVAL = 30
#: How long a session's revocation is remembered as reported (``session_revoked`` once).
REVOKED_REPORT_SECONDS = 24 * 3600


@dataclass(frozen=True)
class CookieOut:
    """A cookie to set (``value``) or clear (``value is None``), with our attributes."""

    name: str
    value: str | None
    max_age: int | None = None


@dataclass
class ResolvedSession:
    """What a request's credentials say: the user, their session, cookies to clear.

    ``refused`` holds the message of an ``on_login`` hook that refused this identity.
    """

    user: User = ANONYMOUS
    record: Session | None = None
    clear: list[CookieOut] = field(default_factory=list)
    refused: str | None = None


class SessionEnded(Exception):
    """The session's account no longer allows it (disabled, removed, password changed)."""


class SessionService:
    """The session half of sign-in: records in a store, tickets in cookies."""

    def __init__(self, config: ServerConfig, store: SessionStore, users: UsersFile | None = None,
                 clock: Callable[[], float] = time.time):
        self.config = config
        self.store = store
        self.users = users
        self._clock = clock
        self._cookies = Sealer(config.cookie_secrets, "session")

    # --- starting -----------------------------------------------------------------------

    def create(self, *, issuer: str, subject: str, provider: str, claims: Mapping[str, Any],
               granted_roles: Iterable[str] = (), tokens: Mapping[str, Any] | None = None,
               browser: str | None = None, credential: str | None = None) -> Session:
        """A new session record in the store (blocks)."""
        now = self._clock()
        data = SessionData(issuer=issuer, subject=subject, provider=provider, claims=dict(claims), created=now,
                           expires_at=now + self.config.default_ttl, granted_roles=list(granted_roles),
                           tokens=dict(tokens or {}), browser=browser, credential=credential)
        ticket = Ticket.new()
        self.store.create(ticket.store_key, data.seal(ticket), data.expires_at, now)
        return Session(ticket, 1, now, data)

    def cookies_for(self, session: Session, sent: Mapping[str, str], *, secure: bool, path: str) -> list[CookieOut]:
        """The session cookie (a sealed ticket), and clears for any leftovers of ours."""
        name = cookie_name(SESSION_COOKIE, secure=secure, path=path)
        expires = int(session.expires_at)
        max_age = max(1, int(expires - self._clock()))
        sealed = self._cookies.seal({"sid": session.ticket.sid, "k": session.ticket.key, "exp": expires})
        values = split_value(name, sealed)
        out = [CookieOut(n, v, max_age) for n, v in values.items()]
        for candidate in candidate_names(SESSION_COOKIE):
            out += [CookieOut(n, None) for n in chunk_names(candidate, sent) if n not in values]
        return out

    # --- finding --------------------------------------------------------------------------

    def resolve(self, cookies: Mapping[str, str], *, secure: bool, path: str, touch: bool = True) -> ResolvedSession:
        """The user behind a request's session cookie (blocks).

        Only the cookie name this scheme and path set counts: on https at the root, an
        unprefixed cookie (planted by a sibling subdomain or over http) is ignored. Anything
        invalid means anonymous plus clearing our cookie; ``StoreUnavailable`` propagates
        (the session is neither used nor cleared while the store is away).
        """
        name = cookie_name(SESSION_COOKIE, secure=secure, path=path)
        present = chunk_names(name, cookies)
        if not present:
            return ResolvedSession()
        clear = [CookieOut(n, None) for n in present]
        ticket = self.ticket_in(cookies, secure=secure, path=path)
        if ticket is None:
            return ResolvedSession(clear=clear)
        session = self.unlock(ticket, touch=touch)
        if session is None:
            return ResolvedSession(clear=clear)
        try:
            user = self.user_of(session)
        except SessionEnded:
            self.store.delete(ticket.store_key)
            return ResolvedSession(clear=clear)
        return ResolvedSession(user=user, record=session)

    def ticket_in(self, cookies: Mapping[str, str], *, secure: bool, path: str) -> Ticket | None:
        """The unexpired ticket in a request's session cookie, without asking the store."""
        name = cookie_name(SESSION_COOKIE, secure=secure, path=path)
        payload = self._cookies.open(join_value(name, cookies))
        ticket = Ticket.from_payload(payload) if payload is not None else None
        exp = payload.get("exp") if payload is not None else None
        if ticket is None or not isinstance(exp, (int, float)) or exp <= self._clock():
            return None
        return ticket

    def unlock(self, ticket: Ticket, *, touch: bool = False, seen: float | None = None) -> Session | None:
        """The live session a ticket opens, or None when it ended, expired or idled out."""
        stored = self.store.load(ticket.store_key)
        now = self._clock()
        if stored is None:
            return None
        data = SessionData.open(ticket, stored.blob)
        if data is None:
            return None
        if stored.expires_at <= now:
            self.store.delete(ticket.store_key)  # expired once: the trail records it once
            audit("session_expired", user_id=user_id(data.issuer, data.subject), provider=data.provider,
                  reason="absolute")
            return None
        last_seen = stored.last_seen
        idle = self.config.idle_timeout
        if idle is not None and now - max(last_seen, seen or 0.0) > idle:
            self.store.delete(ticket.store_key)
            audit("session_expired", user_id=user_id(data.issuer, data.subject), provider=data.provider,
                  reason="idle")
            return None
        activity = now if touch else (seen or 0.0)
        if activity - last_seen >= TOUCH_INTERVAL:
            try:
                if not self.store.touch(ticket.store_key, activity):
                    return None
                last_seen = activity
            except StoreUnavailable as exc:  # a read that worked is not failed by its bookkeeping
                LOGGER.warning("could not record session activity: %s", exc)
        return Session(ticket, stored.version, last_seen, data)

    def user_of(self, session: Session) -> User:
        """The user now: the record's claims with today's roles rules and account data.

        Raises ``SessionEnded`` when a local account was removed, disabled or its password
        changed; ``StoreUnavailable`` when the users file cannot be read.
        """
        data = session.data
        claims, granted = data.claims, list(data.granted_roles)
        if data.provider == "local" and data.issuer == "local":
            if self.users is None:
                self._audit_revoked(session, "local_accounts_off")
                raise SessionEnded("local accounts are no longer configured")
            try:
                account = self.users.accounts().get(data.subject)
            except UsersFileError as exc:
                raise StoreUnavailable(str(exc)) from None
            if account is None or account.disabled or credential_fingerprint(account.password_hash) != data.credential:
                reason = ("account_removed" if account is None else "account_disabled" if account.disabled
                          else "password_changed")
                self._audit_revoked(session, reason)
                raise SessionEnded(f"local account {data.subject!r} changed")
            claims = {**claims, **account.claims()}
            granted = [*account.roles, *granted]
        return self.user_for(claims, data.issuer, data.subject, data.provider, data.expires_at, granted)

    def _audit_revoked(self, session: Session, reason: str) -> None:
        """``session_revoked``, once per session: every replica's maintenance pass and every
        tab of the browser find the same change, and the store says who reports it (when
        the store is away, it is reported anyway: a repeat is better than a gap)."""
        try:
            first = self.store.claim_once("revoked:" + session.ticket.store_key, REVOKED_REPORT_SECONDS)
        except StoreUnavailable:
            first = True
        if first:
            data = session.data
            audit("session_revoked", user_id=user_id(data.issuer, data.subject), provider=data.provider,
                  reason=reason)

    def user_for(self, claims: Mapping[str, Any], issuer: str, subject: str, provider: str,
                 expires_at: float | None, granted: Iterable[str]) -> User:
        """The User for these claims: the provider's groups claim and ``[auth.roles]``."""
        config = self.config.providers.get(provider)
        return user_from_claims(
            claims, issuer=issuer, subject=subject, provider=provider, expires_at=expires_at,
            groups_claims=config.groups_claims if config else DEFAULT_GROUP_CLAIMS,
            role_rules=self.config.roles, granted_roles=granted,
        )

    # --- changing and ending --------------------------------------------------------------

    def save_tokens(self, session: Session, tokens: Mapping[str, Any]) -> bool:
        """Write refreshed tokens unless the session ended or changed meanwhile (CAS).

        False means the write lost: a logout or revocation that happened during the
        refresh wins, and the session never comes back.
        """
        session.data.tokens = dict(tokens)
        if not self.store.replace(session.ticket.store_key, session.data.seal(session.ticket), session.version):
            return False
        session.version += 1
        return True

    def end(self, session: Session | None) -> None:
        """Revoke a session on the server: its cookie stops working everywhere."""
        if session is not None:
            self.store.delete(session.ticket.store_key)

    def sweep(self) -> int:
        """Drop expired records and one-time values (blocks)."""
        return self.store.sweep(self._clock())
