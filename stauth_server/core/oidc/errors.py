"""Why a sign-in failed, in words for the user and details for the log."""

from __future__ import annotations


class SignInError(Exception):
    """A sign-in could not complete.

    ``user_message`` is safe to show on the error page; ``str(self)`` has the details
    for the server log (never a secret or a token).
    """

    status = 400

    def __init__(self, detail: str, user_message: str = "Sign-in failed."):
        super().__init__(detail)
        self.user_message = user_message


class ProviderUnavailable(SignInError):
    """The identity provider could not be reached or answered nonsense."""

    status = 502


class TokenRejected(SignInError):
    """The ID token (or userinfo) failed validation."""


class StateMismatch(SignInError):
    """The callback does not belong to a login this browser started (or was replayed)."""
