"""ID token validation (OIDC Core 3.1.3.7), with PyJWT doing the JOSE work."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterable
from typing import Any

import jwt

from .errors import TokenRejected
from .jws import LEEWAY_SECONDS, bad_signature, verified_claims
from .metadata import ASYMMETRIC_ALGS
from .tenants import PLACEHOLDER, TenantRule

BAD_SIGNATURE = bad_signature("ID token")
_MESSAGES: dict[type[jwt.InvalidTokenError], str] = {
    jwt.ExpiredSignatureError: "expired",
    jwt.ImmatureSignatureError: "issued in the future (iat/nbf)",
    jwt.InvalidAudienceError: "audience does not contain our client_id",
    jwt.InvalidIssuerError: "issuer mismatch",
}
DEFAULT_ALGS = ("RS256",)


def allowed_algorithms(advertised: Iterable[str] | None) -> list[str]:
    """The OP's advertised ID token algorithms that we accept: asymmetric only."""
    algs = [a for a in (advertised or DEFAULT_ALGS) if a in ASYMMETRIC_ALGS]
    return algs or list(DEFAULT_ALGS)


def validate_id_token(
    token: str,
    *,
    key_for: Callable[[str | None, str], Any],
    issuer: str,
    client_id: str,
    nonce: str | None,
    algorithms: list[str],
    tenants: TenantRule | None = None,
) -> dict[str, Any]:
    """The validated claims, or ``TokenRejected`` saying which rule failed.

    ``tenants``: a Microsoft multi-tenant app, whose ``issuer`` is the ``{tenantid}``
    template: ``iss`` must be the template with the token's ``tid`` (``core.oidc.tenants``).

    ``nonce`` is None only for an ID token from a refresh (OIDC Core 12.2).
    ``key_for(kid, alg)`` returns the verification key (the JWKS, refetched once for an
    unknown kid). ``none`` and HMAC algorithms are refused whatever the token says.
    """
    templated = tenants is not None and PLACEHOLDER in issuer
    claims = verified_claims(
        token, what="ID token", key_for=key_for, algorithms=algorithms, audience=client_id,
        issuer=None if templated else issuer, required=["iss", "sub", "aud", "exp", "iat"], messages=_MESSAGES)
    if templated:
        tenants.check(claims, issuer)  # type: ignore[union-attr]
    _check_claims(claims, client_id=client_id, nonce=nonce, now=time.time())
    return claims


def _check_claims(claims: dict[str, Any], *, client_id: str, nonce: str | None, now: float) -> None:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise TokenRejected("ID token: sub missing")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    azp = claims.get("azp")
    if len(audiences) > 1 and azp is None:
        raise TokenRejected("ID token: several audiences and no azp")
    if azp is not None and azp != client_id:
        raise TokenRejected("ID token: azp is not our client_id")
    if nonce is not None:
        token_nonce = claims.get("nonce")
        if not isinstance(token_nonce, str) or not hmac.compare_digest(token_nonce.encode(), nonce.encode()):
            raise TokenRejected("ID token: nonce mismatch")
    iat = claims.get("iat")
    if not isinstance(iat, (int, float)) or iat > now + LEEWAY_SECONDS:
        raise TokenRejected("ID token: issued in the future (iat)")
