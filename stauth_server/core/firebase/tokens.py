"""Verifying a Firebase ID token as Firebase documents it for third-party JWT libraries:
RS256 only, a ``kid`` among Google's published keys, ``iss`` =
``https://securetoken.google.com/<project_id>``, ``aud`` = the project id, ``exp``/``iat``
with 60 s leeway, ``auth_time`` in the past, a non-empty ``sub``.

The Firebase Auth Emulator issues unsigned tokens (``alg: none``): accepted only when the
provider names an emulator (on loopback, checked at start-up), and then only with this
project's ``iss``/``aud`` and valid times. A signed token is verified against the keys even
then (unlike Firebase's Admin SDK, which skips verification in emulator mode).
"""

from __future__ import annotations

import time
from typing import Any

import jwt

from ..oidc.client import SignIn
from ..oidc.errors import TokenRejected
from ..oidc.jws import LEEWAY_SECONDS, verified_claims
from .config import FirebaseConfig
from .keys import FirebaseKeys

WHAT = "Firebase ID token"
REQUIRED = ["iss", "sub", "aud", "exp", "iat", "auth_time"]
#: Firebase's uid: at most 128 characters.
MAX_UID = 128
#: A Firebase ID token is about 1 KB; anything much larger is not one.
MAX_TOKEN_BYTES = 16 * 1024
_MESSAGES: dict[type[jwt.InvalidTokenError], str] = {
    jwt.ExpiredSignatureError: "expired",
    jwt.ImmatureSignatureError: "issued in the future (iat)",
    jwt.InvalidAudienceError: "audience is not this project",
    jwt.InvalidIssuerError: "issuer is not this project",
}

FirebaseSignIn = SignIn


def verify_firebase_token(token: object, config: FirebaseConfig, keys: FirebaseKeys,
                          now: float | None = None) -> SignIn:
    """Who the token names (issuer, uid, claims), or ``TokenRejected`` saying which rule failed."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_BYTES:
        raise TokenRejected(f"{WHAT}: missing or not a token")
    try:
        alg = jwt.get_unverified_header(token).get("alg")
    except jwt.InvalidTokenError:
        raise TokenRejected(f"{WHAT}: malformed") from None
    if alg == "none":
        claims = _emulator_claims(token, config)
    else:
        claims = verified_claims(token, what=WHAT, key_for=lambda kid, _alg: keys.key_for(kid), algorithms=["RS256"],
                                 audience=config.project_id, issuer=config.issuer, required=REQUIRED,
                                 messages=_MESSAGES)
    _check(claims, config, time.time() if now is None else now)
    return SignIn(issuer=config.issuer, subject=claims["sub"], claims=claims)


def _emulator_claims(token: str, config: FirebaseConfig) -> dict[str, Any]:
    """An unsigned token: only from the configured emulator's project."""
    if config.emulator_host is None:
        raise TokenRejected(f"{WHAT}: unsigned (accepted only from the Auth Emulator: set emulator_host)")
    try:
        return jwt.decode(token, options={"verify_signature": False, "verify_exp": True, "verify_iat": True,
                                          "verify_aud": True, "verify_iss": True, "require": REQUIRED},
                          audience=config.project_id, issuer=config.issuer, leeway=LEEWAY_SECONDS)
    except jwt.InvalidTokenError as exc:
        for kind, message in _MESSAGES.items():
            if isinstance(exc, kind):
                raise TokenRejected(f"{WHAT}: {message}") from None
        raise TokenRejected(f"{WHAT}: invalid ({type(exc).__name__}: {str(exc)[:200]})") from None


def _check(claims: dict[str, Any], config: FirebaseConfig, now: float) -> None:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > MAX_UID:
        raise TokenRejected(f"{WHAT}: sub missing or not a Firebase uid")
    for name in ("iat", "auth_time"):
        value = claims.get(name)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value > now + LEEWAY_SECONDS:
            raise TokenRejected(f"{WHAT}: {name} missing or in the future")
    if config.require_email_verified and claims.get("email_verified") is not True:
        raise TokenRejected(f"{WHAT}: the email address is not verified (require_email_verified)")
