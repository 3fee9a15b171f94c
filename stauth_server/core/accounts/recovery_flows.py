"""Invitations and password resets over the users file: issue a one-time link, open it, redeem it.

- ``invite``: a new account, disabled, whose password nobody knows, with an invitation
  link (72 h). Redeeming it sets the password and enables the account.
- ``issue_reset``: a password-reset link (30 min) for an enabled account with an e-mail
  address, found by username or e-mail; None for anyone else (the caller answers the same).
- ``open_link``: the account a link belongs to, or ``LinkRefused``; ``redeem``: set the new
  password (the policy applied), which deletes every pending link of the account.

Only token hashes are stored (``core.accounts.links``); a link dies when it expires, once
used, and when the password changes. Framework-neutral and blocking (the users file,
argon2): the server runs these off its event loop.
"""

from __future__ import annotations

import dataclasses
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..sources.local import LocalAccount, OneTimeToken, UsersFile, hash_password, valid_username
from .links import INVITE, RESET, LinkVerdict, check_link, issue_link, link_url, password_fingerprint, token_hash
from .mail import checked_address
from .passwords import check_new_password

#: Pending links an account keeps per purpose; issuing one more drops the oldest.
MAX_PENDING_LINKS = 3
#: The longest token looked up (ours have 43 characters).
MAX_TOKEN_LENGTH = 128
#: Where each purpose's link points (``/auth/<path>?token=...``).
LINK_PATHS: Mapping[str, str] = {INVITE: "invite", RESET: "reset"}
#: What a person sees for any refused link, whatever the reason.
INVALID_LINK = "This link is invalid or has expired."


class LinkRefused(Exception):
    """The link cannot be used; ``verdict`` says why (for logs and the audit trail only)."""

    def __init__(self, verdict: LinkVerdict):
        super().__init__(f"one-time link refused: {verdict.value}")
        self.verdict = verdict
        self.user_message = INVALID_LINK


class PasswordRefused(Exception):
    """The new password fails the policy; ``user_message`` says why (``username``: the link's account)."""

    def __init__(self, user_message: str, username: str):
        super().__init__(user_message)
        self.user_message = user_message
        self.username = username


class InvitationError(ValueError):
    """An invitation cannot be made (bad e-mail or username, the account exists); the message says why."""


@dataclass(frozen=True)
class IssuedLink:
    """A link just issued: the account it opens (as stored) and its absolute URL (holds the token)."""

    account: LocalAccount
    url: str


def _now(now: float | None) -> float:
    return time.time() if now is None else now


def with_new_link(account: LocalAccount, purpose: str, now: float) -> tuple[LocalAccount, str]:
    """``account`` with a new link of ``purpose`` among its records, and the link's token.

    Expired records go; of the purpose's pending links, the newest ``MAX_PENDING_LINKS - 1``
    stay, so repeated requests cannot grow the users file.
    """
    token, stored = issue_link(purpose, account.password_hash, now)
    live = [t for t in account.one_time_tokens if t.expires_at > now]
    same = [t for t in live if t.purpose == purpose]
    dropped = {id(t) for t in sorted(same, key=lambda t: t.expires_at)[:max(0, len(same) - (MAX_PENDING_LINKS - 1))]}
    kept = tuple(t for t in live if id(t) not in dropped)
    record = OneTimeToken(stored["hash"], stored["purpose"], stored["expires_at"], stored["password_fingerprint"])
    return dataclasses.replace(account, one_time_tokens=(*kept, record)), token


def invite(users: UsersFile, email: str, redirect_uri: str, *, username: str | None = None, name: str | None = None,
           roles: Iterable[str] = (), now: float | None = None) -> IssuedLink:
    """Add a disabled account for ``email`` (username: ``username``, else the address) with
    an invitation link built from ``redirect_uri``. ``InvitationError`` says what is wrong."""
    try:
        checked_address(email)
    except ValueError:
        raise InvitationError(f"not an e-mail address: {email!r}") from None
    chosen = username if username is not None else email
    if not valid_username(chosen):
        raise InvitationError(f"{chosen!r} cannot be a username (letters, digits and . _ - @ + only); "
                              f"choose one with --username")
    try:
        link_url(redirect_uri, LINK_PATHS[INVITE], "x" * 16)
    except ValueError as exc:
        raise InvitationError(f"[auth] redirect_uri: {exc}") from None
    # Nobody knows this password: the account opens only through the link.
    unusable = hash_password(secrets.token_urlsafe(32))
    fresh = LocalAccount(chosen, unusable, email, name or None, tuple(roles), disabled=True)
    moment = _now(now)

    def add(accounts: dict[str, LocalAccount]) -> tuple[LocalAccount, str]:
        if chosen in accounts:
            raise InvitationError(f"{chosen} already exists")
        account, token = with_new_link(fresh, INVITE, moment)
        accounts[chosen] = account
        return account, token

    account, token = users.update(add)
    return IssuedLink(account, link_url(redirect_uri, LINK_PATHS[INVITE], token))


def find_account(accounts: Mapping[str, LocalAccount], identifier: str) -> LocalAccount | None:
    """The account named ``identifier``, else the one account with that e-mail (any case)."""
    if identifier in accounts:
        return accounts[identifier]
    wanted = identifier.casefold()
    matches = [a for a in accounts.values() if a.email and a.email.casefold() == wanted]
    return matches[0] if len(matches) == 1 else None


def resettable(account: LocalAccount | None) -> bool:
    """Whether a reset link may be sent for ``account``: it exists, is enabled and has an e-mail."""
    return account is not None and not account.disabled and bool(account.email)


def issue_reset(users: UsersFile, identifier: str, redirect_uri: str, *, now: float | None = None) -> IssuedLink | None:
    """A password-reset link for the account ``identifier`` names (username or e-mail), or
    None when there is no such account, it is disabled (or still invited) or has no e-mail."""
    moment = _now(now)

    def add(accounts: dict[str, LocalAccount]) -> tuple[LocalAccount, str] | None:
        account = find_account(accounts, identifier)
        if not resettable(account):
            return None
        assert account is not None
        updated, token = with_new_link(account, RESET, moment)
        accounts[account.username] = updated
        return updated, token

    issued = users.update(add)
    if issued is None:
        return None
    account, token = issued
    return IssuedLink(account, link_url(redirect_uri, LINK_PATHS[RESET], token))


def _holder(accounts: Mapping[str, LocalAccount], token: str) -> tuple[LocalAccount, OneTimeToken] | None:
    """The account holding a record for ``token``, and that record (hashes compared in constant time)."""
    wanted = token_hash(token).encode("ascii")
    for account in accounts.values():
        for record in account.one_time_tokens:
            if hmac.compare_digest(wanted, record.hash.encode("ascii")):
                return account, record
    return None


def _verdict(accounts: Mapping[str, LocalAccount], token: str, purpose: str,
             now: float) -> tuple[LinkVerdict, LocalAccount | None]:
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return LinkVerdict.UNKNOWN, None
    found = _holder(accounts, token)
    if found is None:
        return check_link(token, None, purpose, now, ""), None
    account, record = found
    verdict = check_link(token, record.as_stored(), purpose, now, password_fingerprint(account.password_hash))
    if verdict.ok and purpose == RESET and account.disabled:
        return LinkVerdict.UNKNOWN, account  # disabled since: no way back in through a reset
    return verdict, account


def open_link(users: UsersFile, token: str, purpose: str, *, now: float | None = None) -> LocalAccount:
    """The account a valid ``purpose`` link opens (nothing changes); ``LinkRefused`` otherwise."""
    verdict, account = _verdict(users.accounts(), token, purpose, _now(now))
    if not verdict.ok or account is None:
        raise LinkRefused(verdict)
    return account


def redeem(users: UsersFile, token: str, purpose: str, new_password: str, *, min_length: int,
           now: float | None = None) -> LocalAccount:
    """Set the new password through a valid link: the account as stored afterwards.

    The policy applies (``PasswordRefused``); the account is enabled (an invitation) and
    loses every pending link, so this one works once. ``LinkRefused`` when the link is not
    valid, now or when the change is written (two tabs redeeming it at once: one wins).
    """
    account = open_link(users, token, purpose, now=now)
    reason = check_new_password(new_password, min_length=min_length, username=account.username, email=account.email)
    if reason is not None:
        raise PasswordRefused(reason, account.username)
    new_hash = hash_password(new_password)  # argon2: outside the file lock

    def change(accounts: dict[str, LocalAccount]) -> LocalAccount:
        verdict, current = _verdict(accounts, token, purpose, _now(now))
        if not verdict.ok or current is None:
            raise LinkRefused(verdict)
        enabled = purpose == INVITE or not current.disabled
        accounts[current.username] = updated = dataclasses.replace(
            current, password_hash=new_hash, one_time_tokens=(), disabled=not enabled)
        return updated

    return users.update(change)


__all__ = ["INVALID_LINK", "IssuedLink", "InvitationError", "LINK_PATHS", "LinkRefused", "MAX_PENDING_LINKS",
           "PasswordRefused", "find_account", "invite", "issue_reset", "open_link", "redeem", "resettable",
           "with_new_link"]
