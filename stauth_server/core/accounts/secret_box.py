"""Sealing a TOTP secret for the users file, with keys derived from the cookie secrets.

The users file may be copied, backed up or read by more people than the server's secrets:
a TOTP secret is stored only sealed. This reuses ``core.session_cookie.Sealer`` (Fernet:
AES-128-CBC + HMAC-SHA256, a key derived with HKDF-SHA256 from each cookie secret and the
purpose ``"totp-secret"``), so rotating ``cookie_secrets`` (the new secret first, the old
ones after it) keeps every enrolled second factor working, and a value sealed for another
purpose (a session cookie) never opens here. The username is sealed with the secret: an
entry copied onto another account does not open.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..session_cookie import Sealer

PURPOSE = "totp-secret"


class SecretBoxError(ValueError):
    """The sealed secret does not open with these cookie secrets (other keys, tampered, other user)."""


class SecretBox:
    """Seal and open the TOTP secrets of local accounts."""

    def __init__(self, cookie_secrets: Sequence[str]):
        self._sealer = Sealer(cookie_secrets, PURPOSE)

    def seal(self, username: str, secret: str) -> str:
        """The value to store as the account's ``totp_secret``."""
        return self._sealer.seal({"user": username, "secret": secret})

    def open(self, username: str, sealed: str) -> str:
        """The TOTP secret of ``username``; ``SecretBoxError`` when it does not open as theirs."""
        payload = self._sealer.open(sealed)
        secret = payload.get("secret") if payload is not None and payload.get("user") == username else None
        if not isinstance(secret, str) or not secret:
            raise SecretBoxError(f"the second-factor secret of {username} does not open with the configured "
                                 "cookie secrets (were they changed without keeping the old one?)")
        return secret
