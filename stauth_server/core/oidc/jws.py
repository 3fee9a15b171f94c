"""The JOSE checks ID tokens and JWT access tokens share, with PyJWT doing the work: the
header (an algorithm from the accepted list, a string ``kid``), the key from the caller,
the signature and the registered claims, and each PyJWT error named as the rule it broke."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt

from .errors import TokenRejected

#: Clock skew allowed for ``exp``, ``nbf`` and ``iat``.
LEEWAY_SECONDS = 60


def bad_signature(what: str) -> str:
    """The message of a signature failure: callers refetch the JWKS once on it."""
    return f"{what}: bad signature"


def verified_claims(
    token: str,
    *,
    what: str,
    key_for: Callable[[str | None, str], Any],
    algorithms: list[str],
    audience: str,
    issuer: str | None,
    required: list[str],
    messages: dict[type[jwt.InvalidTokenError], str],
) -> dict[str, Any]:
    """The token's claims once its signature, ``aud``, ``iss`` (unless None), ``exp`` and
    ``nbf`` hold, or ``TokenRejected`` starting with ``what``. ``none`` and HMAC algorithms
    never verify: ``algorithms`` holds asymmetric ones only. ``messages`` words a PyJWT
    error the caller's way (after the ``what: `` prefix)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:  # PyJWT names the fault (a non-string kid, an unknown crit)
        raise TokenRejected(f"{what}: malformed ({str(exc)[:200]})") from None
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in algorithms:
        raise TokenRejected(f"{what}: algorithm {str(alg)[:16]!r} not accepted (allowed: {algorithms})")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise TokenRejected(f"{what}: kid is not a string")
    key = key_for(kid, alg)
    try:
        return jwt.decode(token, key=key, algorithms=[alg], audience=audience, issuer=issuer,
                          leeway=LEEWAY_SECONDS, options={"require": required, "verify_iat": "iat" in required})
    except jwt.InvalidSignatureError:
        raise TokenRejected(bad_signature(what)) from None
    except jwt.InvalidTokenError as exc:
        for kind, message in messages.items():
            if isinstance(exc, kind):
                raise TokenRejected(f"{what}: {message}") from None
        # PyJWT's own words name the rule (e.g. 'Token is missing the "exp" claim'), never the token
        raise TokenRejected(f"{what}: invalid ({type(exc).__name__}: {str(exc)[:200]})") from None
