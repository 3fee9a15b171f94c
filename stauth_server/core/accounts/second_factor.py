"""The second factor of a local account, read and changed in its users file.

Every check that consumes something (a TOTP time step, a recovery code) runs inside
``UsersFile.update``: the account is re-read under the file lock, so two requests racing
with the same code cannot both succeed, in one server process or several.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace

from ..sources.local import LocalAccount, UsersFile
from . import recovery
from .secret_box import SecretBox, SecretBoxError
from .totp import accepted_step, valid_secret

LOGGER = logging.getLogger("stauth_server.accounts")


class SecondFactorError(ValueError):
    """The change cannot be made (no such account, a second factor already enrolled)."""


def second_factor_required(rule: bool | tuple[str, ...], roles: Iterable[str]) -> bool:
    """``[auth.local] require_second_factor``: true for everyone, or a list of roles that need one."""
    if isinstance(rule, bool):
        return rule
    return bool(set(rule) & set(roles))


def enrol_totp(users: UsersFile, username: str, *, secret: str, code: str, box: SecretBox,
               now: float | None = None) -> list[str] | None:
    """Enrol ``secret`` once ``code`` proves the user's app has it.

    Stores the sealed secret, the code's time step (so it cannot be replayed) and ten fresh
    recovery codes, which are returned to be shown once. None: the code is wrong.
    ``SecondFactorError``: ``secret`` is malformed, no such account, or it already has a second
    factor (disable it first).
    """
    if not valid_secret(secret):
        raise SecondFactorError("not a TOTP secret of ours (32 or more base32 characters)")
    step = accepted_step(secret, code, last_step=None, now=now)
    if step is None:
        return None
    codes = recovery.new_codes()

    def change(accounts: dict[str, LocalAccount]) -> list[str]:
        account = accounts.get(username)
        if account is None:
            raise SecondFactorError(f"no local account {username}")
        if account.has_second_factor:
            raise SecondFactorError(f"{username} already has a second factor")
        enrolled = replace(account, totp_secret=box.seal(username, secret), totp_last_step=step)
        accounts[username] = recovery.with_codes(enrolled, codes)
        return codes

    return users.update(change)


def verify_second_factor(users: UsersFile, username: str, code: str, box: SecretBox,
                         now: float | None = None) -> str | None:
    """``"totp"`` or ``"recovery"`` when ``code`` is accepted (and now used up); None when refused.

    A TOTP code is refused when wrong, outside the ±1 step window, or not newer than the last
    accepted one; a recovery code works once. A stored secret that does not open (other
    cookie secrets, tampered) refuses every TOTP code, with a warning in the log; recovery
    codes still work then.
    """

    def change(accounts: dict[str, LocalAccount]) -> str | None:
        account = accounts.get(username)
        if account is None or account.totp_secret is None:
            return None
        try:
            secret: str | None = box.open(username, account.totp_secret)
        except SecretBoxError as exc:
            LOGGER.warning("%s", exc)
            secret = None
        if secret is not None:
            step = accepted_step(secret, code, last_step=account.totp_last_step, now=now)
            if step is not None:
                accounts[username] = replace(account, totp_last_step=step)
                return "totp"
        used = recovery.consumed(account, code)
        if used is not None:
            accounts[username] = used
            return "recovery"
        return None

    return users.update(change)


def without_second_factor(account: LocalAccount) -> LocalAccount:
    """``account`` with no TOTP secret and no recovery codes (an administrator's reset)."""
    return replace(account, totp_secret=None, totp_last_step=None, recovery_codes=())
