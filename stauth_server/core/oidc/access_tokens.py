"""JWT access token validation (RFC 9068 profile), for machine clients calling routes.

The same JOSE rules as ID tokens (``id_token``): asymmetric algorithms the provider
advertises only, a key from its JWKS, the exact issuer; then the audience must be the API's
(``[auth.NAME] api_audience``), never the app's client id unless configured so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt

from .errors import TokenRejected
from .id_token import LEEWAY_SECONDS

BAD_SIGNATURE = "access token: bad signature"


def unverified_issuer(token: str) -> str | None:
    """The ``iss`` a JWT claims, unverified: only to pick which provider must check it."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    return issuer if isinstance(issuer, str) else None


def validate_access_token(
    token: str,
    *,
    key_for: Callable[[str | None, str], Any],
    issuer: str,
    audience: str,
    algorithms: list[str],
) -> dict[str, Any]:
    """The validated claims, or ``TokenRejected`` saying which rule failed.

    ``key_for(kid, alg)`` returns the verification key. ``none`` and HMAC algorithms are
    refused whatever the token says (``algorithms`` holds asymmetric ones only).
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise TokenRejected("access token: malformed") from None
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in algorithms:
        raise TokenRejected(f"access token: algorithm {str(alg)[:16]!r} not accepted (allowed: {algorithms})")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise TokenRejected("access token: kid is not a string")
    key = key_for(kid, alg)
    try:
        claims = jwt.decode(
            token, key=key, algorithms=[alg], audience=audience, issuer=issuer, leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "sub", "aud", "exp"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenRejected("access token: expired") from None
    except jwt.ImmatureSignatureError:
        raise TokenRejected("access token: not valid yet (nbf/iat)") from None
    except jwt.InvalidAudienceError:
        raise TokenRejected("access token: audience is not this API's") from None
    except jwt.InvalidIssuerError:
        raise TokenRejected("access token: issuer mismatch") from None
    except jwt.InvalidSignatureError:
        raise TokenRejected(BAD_SIGNATURE) from None
    except jwt.InvalidTokenError as exc:
        raise TokenRejected(f"access token: invalid ({type(exc).__name__})") from None
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise TokenRejected("access token: sub missing")
    return claims
