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
from .jws import bad_signature, verified_claims

BAD_SIGNATURE = bad_signature("access token")
_MESSAGES: dict[type[jwt.InvalidTokenError], str] = {
    jwt.ExpiredSignatureError: "expired",
    jwt.ImmatureSignatureError: "not valid yet (nbf/iat)",
    jwt.InvalidAudienceError: "audience is not this API's",
    jwt.InvalidIssuerError: "issuer mismatch",
}


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
    claims = verified_claims(
        token, what="access token", key_for=key_for, algorithms=algorithms, audience=audience, issuer=issuer,
        required=["iss", "sub", "aud", "exp"], messages=_MESSAGES)
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise TokenRejected("access token: sub missing")
    return claims
