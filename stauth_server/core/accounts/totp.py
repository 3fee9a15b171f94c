"""TOTP (RFC 6238) with pyotp: 6 digits, 30-second steps, one step of clock drift either way.

A code is accepted at most once: the account remembers the time step of the last accepted
code, and a code of that step or an earlier one is refused (RFC 6238, section 5.2). So a
code seen over a shoulder or replayed from a log is worthless once used, and so is every
code older than it.
"""

from __future__ import annotations

import hmac
import time

import pyotp

DIGITS = 6
INTERVAL = 30
#: Steps accepted on either side of the current one (clock drift, a code typed late).
DRIFT_STEPS = 1


#: The shortest secret accepted for enrolment: 32 base32 characters, 160 bits (RFC 4226's recommendation).
MIN_SECRET_LENGTH = 32
_BASE32 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def new_secret() -> str:
    """A fresh base32 secret (160 bits), to seal and store once the user confirms a code."""
    return pyotp.random_base32(MIN_SECRET_LENGTH)


def valid_secret(secret: str) -> bool:
    """Whether ``secret`` is unpadded base32 of at least 160 bits (what ``new_secret`` makes)."""
    return MIN_SECRET_LENGTH <= len(secret) <= 128 and len(secret) % 8 == 0 and set(secret) <= _BASE32


def otpauth_uri(secret: str, *, account_name: str, issuer: str) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app reads (from a QR code or a link)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(name=account_name,
                                                                                 issuer_name=issuer)


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // INTERVAL)


def accepted_step(secret: str, code: str, *, last_step: int | None, now: float | None = None) -> int | None:
    """The time step ``code`` belongs to when it is valid now and newer than ``last_step``; else None.

    Spaces are ignored (``123 456``); anything but 6 ASCII digits is refused, and so is
    every code when ``secret`` is not valid base32.
    """
    code = code.replace(" ", "")
    if len(code) != DIGITS or not code.isascii() or not code.isdigit() or not valid_secret(secret):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)
    step = current_step(now)
    accepted = None
    for candidate in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1):
        if last_step is not None and candidate <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(candidate), code) and accepted is None:
            accepted = candidate
    return accepted
