"""What a new password must be: long enough, not one of the most common, not the user's name."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

DEFAULT_MIN_LENGTH = 12
#: The floor for ``[auth.local] min_password_length``.
LOWEST_MIN_LENGTH = 8
MAX_LENGTH = 1024  # argon2 would take longer passwords; refusing them bounds the work


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The built-in list (``common_passwords.txt``), lower case."""
    text = resources.files(__package__).joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_new_password(password: str, *, min_length: int = DEFAULT_MIN_LENGTH, username: str | None = None,
                       email: str | None = None) -> str | None:
    """Why ``password`` cannot be a new password (a sentence for the user), or None when it can.

    Length counts characters; the common-password list and the name checks ignore case.
    """
    if len(password) < min_length:
        return f"Passwords need at least {min_length} characters."
    if len(password) > MAX_LENGTH:
        return f"Passwords can have at most {MAX_LENGTH} characters."
    folded = password.strip().casefold()
    if folded in common_passwords():
        return "This password is one of the most common ones; choose another."
    names = {name.casefold() for name in (username, email) if name}
    if email and "@" in email:
        names.add(email.split("@", 1)[0].casefold())
    if folded in names:
        return "The password cannot be your username or e-mail address."
    return None
