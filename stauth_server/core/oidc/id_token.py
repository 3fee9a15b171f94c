"""ID token validation (OIDC Core 3.1.3.7), with PyJWT doing the JOSE work."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterable
from typing import Any

import jwt

from .errors import TokenRejected
from .metadata import ASYMMETRIC_ALGS
from .tenants import PLACEHOLDER, TenantRule

LEEWAY_SECONDS = 60
BAD_SIGNATURE = "ID token: bad signature"
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
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise TokenRejected(f"ID token: malformed ({exc})") from None
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in algorithms:
        raise TokenRejected(f"ID token: algorithm {alg!r} not accepted (allowed: {algorithms})")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise TokenRejected("ID token: kid is not a string")
    key = key_for(kid, alg)
    templated = tenants is not None and PLACEHOLDER in issuer
    try:
        claims = jwt.decode(
            token,
            key=key,
            algorithms=[alg],
            audience=client_id,
            issuer=None if templated else issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "sub", "aud", "exp", "iat"], "verify_iat": True},
        )
    except jwt.ExpiredSignatureError:
        raise TokenRejected("ID token: expired") from None
    except jwt.ImmatureSignatureError:
        raise TokenRejected("ID token: issued in the future (iat/nbf)") from None
    except jwt.InvalidAudienceError:
        raise TokenRejected("ID token: audience does not contain our client_id") from None
    except jwt.InvalidIssuerError:
        raise TokenRejected("ID token: issuer mismatch") from None
    except jwt.InvalidSignatureError:
        raise TokenRejected(BAD_SIGNATURE) from None
    except jwt.InvalidTokenError as exc:
        raise TokenRejected(f"ID token: invalid ({type(exc).__name__}: {exc})") from None
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
