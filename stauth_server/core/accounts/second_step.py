"""The checks behind the second sign-in step and the account page's TOTP forms (blocking).

Every code is throttled like a password, in the same ``Throttle``, per account and per
address, under keys of its own (``second-factor:user:NAME``, ``second-factor:ip:ADDR``): a
correct password does not clear the failed codes, so knowing the password buys no fresh
guesses at the code. A code that works clears them.

A TOTP secret being enrolled travels only sealed (``seal_candidate``): with the cookie
secrets, for this purpose alone, bound to the username, for ``CANDIDATE_SECONDS``. On the
account page, enrolling also takes the current password (``reauth``): a stolen session
alone cannot put the thief's app on the account and lock its owner out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..audit import audit
from ..identity import user_id
from ..oidc.errors import SignInError
from ..session_cookie import Sealer
from ..signin import SourceUnavailable, TooManyAttempts
from ..sources.local import LocalAccount, UsersFile, UsersFileError, verify
from ..throttle import Throttle
from .reauth import confirm_password
from .second_factor import SecondFactorError, enrol_totp, second_factor_required, verify_second_factor
from .secret_box import SecretBox
from .totp import new_secret

#: How long an enrolment form (its sealed candidate secret) stays usable.
CANDIDATE_SECONDS = 900
CANDIDATE_PURPOSE = "totp-enrolment"


class CodeRefused(SignInError):
    """A wrong, replayed or used-up code (or, to disable, a wrong password)."""

    status = 401


class SecondStep:
    """TOTP checks for one users file, sharing the sign-in ``throttle``."""

    def __init__(self, users: UsersFile, cookie_secrets: Sequence[str], throttle: Throttle):
        self.users = users
        self.box = SecretBox(cookie_secrets)
        self._candidates = Sealer(cookie_secrets, CANDIDATE_PURPOSE)
        self.throttle = throttle

    # --- what the account needs --------------------------------------------------------

    @staticmethod
    def needed(account: LocalAccount, rule: bool | tuple[str, ...], roles: Sequence[str]) -> str | None:
        """``"code"`` (it has a second factor), ``"enrol"`` (it must set one up), or None."""
        if account.has_second_factor:
            return "code"
        return "enrol" if second_factor_required(rule, roles) else None

    # --- enrolment ---------------------------------------------------------------------

    def new_candidate(self, username: str) -> tuple[str, str]:
        """A fresh secret to show, and its sealed form for the enrolment form's hidden field."""
        secret = new_secret()
        return secret, self._candidates.seal({"user": username, "secret": secret})

    def open_candidate(self, username: str, sealed: str | None) -> str | None:
        """The secret a form carried, when sealed by us for ``username`` and recent enough."""
        payload = self._candidates.open(sealed, max_age_seconds=CANDIDATE_SECONDS)
        if payload is None or payload.get("user") != username:
            return None
        secret = payload.get("secret")
        return secret if isinstance(secret, str) else None

    def enrol(self, username: str, sealed: str | None, code: str, client_ip: str | None, *, via: str,
              password: object | None) -> list[str]:
        """Enrol the sealed candidate once ``code`` proves the user's app has it: the ten
        recovery codes to show once. ``password``: the account's current password, checked
        first (``reauth.confirm_password``: ``WrongPassword``, ``TooManyAttempts``); None only
        where the first factor was just checked (the sign-in step). ``CodeRefused``,
        ``TooManyAttempts``, or ``SignInError`` (the form expired, a second factor already there)."""
        secret = self.open_candidate(username, sealed)
        if secret is None:
            raise SignInError("enrolment form expired or not this account's",
                              "This set-up form has expired. Start again with a new code.")
        if password is not None:
            confirm_password(self.users, self.throttle, username, password, client_ip, event="second_factor_failed",
                             step="enrol")
        keys = self._attempt(username, client_ip, step="enrol")
        try:
            codes = enrol_totp(self.users, username, secret=secret, code=code, box=self.box)
        except SecondFactorError as exc:
            raise SignInError(str(exc), "Two-factor authentication is already set up for this account.") from None
        except UsersFileError as exc:
            raise SourceUnavailable(str(exc), "Your account cannot be changed right now. Try again later.") from None
        if codes is None:
            audit("second_factor_failed", user_id=user_id("local", username), step="enrol", reason="wrong")
            raise CodeRefused(f"enrolment code refused for {username[:64]!r}",
                              "That code is not right. Enter the current code from your authenticator app.")
        self.throttle.success(keys)
        audit("second_factor_enrolled", user_id=user_id("local", username), provider="local", via=via)
        return codes

    # --- the second step ---------------------------------------------------------------

    def check(self, username: str, code: str, client_ip: str | None) -> str:
        """``"totp"`` or ``"recovery"`` when ``code`` opens the second step (and is now used
        up); ``CodeRefused`` or ``TooManyAttempts`` otherwise."""
        keys = self._attempt(username, client_ip, step="sign_in")
        factor = self._verify(username, code)
        if factor is None:
            audit("second_factor_failed", user_id=user_id("local", username), step="sign_in", reason="wrong")
            raise CodeRefused(f"second-factor code refused for {username[:64]!r}",
                              "That code is not right, or was already used. Try the next one.")
        self.throttle.success(keys)
        if factor == "recovery":
            audit("recovery_code_used", user_id=user_id("local", username), provider="local",
                  remaining=self._recovery_left(username))
        return factor

    # --- disabling ---------------------------------------------------------------------

    def disable(self, username: str, password: str, code: str, client_ip: str | None) -> None:
        """Turn the account's second factor off: the password and a code (or a recovery code)
        both required. ``CodeRefused``, ``TooManyAttempts``."""
        password_keys = [f"user:{username.lower()}", f"ip:{client_ip}"]
        wait = self.throttle.attempt(password_keys)
        if wait > 0:
            self._refuse_throttled(username, wait, step="disable")
        keys = self._attempt(username, client_ip, step="disable")
        try:
            account = verify(self.users, username, password)
        except UsersFileError as exc:
            raise SourceUnavailable(str(exc), "Your account cannot be changed right now. Try again later.") from None
        if account is None or self._verify(username, code) is None:
            audit("second_factor_failed", user_id=user_id("local", username), step="disable",
                  reason="bad_password" if account is None else "wrong")
            raise CodeRefused(f"disabling the second factor of {username[:64]!r} refused",
                              "The password or the code is not right.")
        self.throttle.success(password_keys)
        self.throttle.success(keys)

        def turn_off(accounts: dict[str, LocalAccount]) -> None:
            stored = accounts.get(username)
            if stored is not None:
                accounts[username] = replace(stored, totp_secret=None, totp_last_step=None, recovery_codes=())

        try:
            self.users.update(turn_off)
        except UsersFileError as exc:
            raise SourceUnavailable(str(exc), "Your account cannot be changed right now. Try again later.") from None
        audit("second_factor_disabled", user_id=user_id("local", username), provider="local")

    # --- shared ------------------------------------------------------------------------

    def _attempt(self, username: str, client_ip: str | None, *, step: str) -> list[str]:
        keys = [f"second-factor:user:{username.lower()}", f"second-factor:ip:{client_ip}"]
        wait = self.throttle.attempt(keys)
        if wait > 0:
            self._refuse_throttled(username, wait, step=step)
        return keys

    @staticmethod
    def _refuse_throttled(username: str, wait: float, *, step: str) -> None:
        audit("second_factor_failed", user_id=user_id("local", username), step=step, reason="throttled",
              retry_after=int(wait) + 1)
        raise TooManyAttempts(f"second-factor attempts throttled for {username[:64]!r}",
                              f"Too many attempts. Try again in {int(wait) + 1} seconds.")

    def _verify(self, username: str, code: str) -> str | None:
        code = code.strip()[:64]
        if not code:
            return None
        try:
            return verify_second_factor(self.users, username, code, self.box)
        except UsersFileError as exc:
            raise SourceUnavailable(str(exc), "Your account cannot be checked right now. Try again later.") from None

    def _recovery_left(self, username: str) -> int | None:
        try:
            account = self.users.accounts().get(username)
        except UsersFileError:
            return None
        return len(account.recovery_codes) if account is not None else None


__all__ = ["CANDIDATE_SECONDS", "CodeRefused", "SecondStep"]
