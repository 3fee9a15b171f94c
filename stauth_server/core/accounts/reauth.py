"""Re-authentication: the current password, asked again before a signed-in local account
adds a way to sign in (a passkey) or a second factor (TOTP).

A session alone does not prove who holds it (a stolen cookie, a browser left open): what
outlives a password reset, or locks the owner out, needs the password too. The check is
throttled like a sign-in, in the same ``Throttle`` and under the same keys
(``user:NAME``, ``ip:ADDR``) as the password form and ``SignInService.change_password``,
so these forms buy no extra guesses at the password.
"""

from __future__ import annotations

from typing import Any

from ..audit import audit
from ..identity import user_id
from ..signin import SourceUnavailable, TooManyAttempts, WrongPassword
from ..sources.local import LocalAccount, UsersFile, UsersFileError, verify
from ..throttle import Throttle


def confirm_password(users: UsersFile, throttle: Throttle, username: str, password: object,
                     client_ip: str | None, *, event: str, **fields: Any) -> LocalAccount:
    """The account when ``password`` is its current one (blocks: argon2id). Otherwise audit
    ``event`` (with ``fields`` and ``reason`` ``bad_password`` or ``throttled``) and raise
    ``WrongPassword`` (401) or ``TooManyAttempts`` (429); ``SourceUnavailable`` (503) when
    the users file cannot be read. A missing or non-string ``password`` is a wrong one."""
    keys = [f"user:{username.lower()}", f"ip:{client_ip}"]
    wait = throttle.attempt(keys)
    if wait > 0:
        audit(event, user_id=user_id("local", username), reason="throttled", retry_after=int(wait) + 1, **fields)
        raise TooManyAttempts(f"re-authentication throttled for {username[:64]!r}",
                              f"Too many attempts. Try again in {int(wait) + 1} seconds.")
    try:
        account = verify(users, username, password if isinstance(password, str) else "")
    except UsersFileError as exc:
        raise SourceUnavailable(str(exc), "Your account cannot be changed right now. Try again later.") from None
    if account is None:
        audit(event, user_id=user_id("local", username), reason="bad_password", **fields)
        raise WrongPassword(f"re-authentication of {username[:64]!r}: wrong current password",
                            "Your current password is not right.")
    throttle.success(keys)
    return account


__all__ = ["confirm_password"]
