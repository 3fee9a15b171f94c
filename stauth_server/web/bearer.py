"""``Authorization: Bearer`` on ``@sa.route`` calls: the token alone says who calls.

A request that sends a Bearer token is authenticated by that token only (a cookie it also
carries is ignored), and a bad one is refused with RFC 6750's challenge, on public routes
too: a client that sends a token expects it to be checked. Pages and ``/auth/*`` never
look at bearer tokens. Sign-in (PyJWT, requests) is imported only when configured, so
``bearer_token`` stays cheap to import for route dispatch.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ..core.errors import HTTPError
from ..core.identity import User
from .blocking import sign_in_work
from .exchange import HttpRequest

if TYPE_CHECKING:
    from ..core.signin import SignInService

LOGGER = logging.getLogger("stauth_server.bearer")

#: RFC 6750 3.1: the challenge sent with a refused token.
INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"'
#: RFC 6750 2.1's b64token.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")

Identify = Callable[[HttpRequest], Awaitable[User]]


def bearer_token(request: HttpRequest) -> str | None:
    """The token of an ``Authorization: Bearer`` header; None without one; ``""`` for a
    Bearer header whose token is missing or malformed (refused like a bad token)."""
    scheme, _, token = request.header("Authorization").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    return token if _B64TOKEN.fullmatch(token) else ""


def invalid_token(detail: str = "Invalid bearer token") -> HTTPError:
    """The 401 for a refused token, with its ``WWW-Authenticate`` challenge."""
    return HTTPError(401, detail, headers={"WWW-Authenticate": INVALID_TOKEN_CHALLENGE})


def bearer_aware(service: SignInService, identify_by_cookie: Identify) -> Identify:
    """An ``identify`` for route dispatch: the Bearer token when the request sends one
    (checked off the event loop), else ``identify_by_cookie`` (session cookie, proxy)."""
    from ..core.audit import audit
    from ..core.bearer import BearerAuthenticator, BearerRefused, BearerUnavailable, InvalidBearerToken

    authenticator = BearerAuthenticator(service)

    async def identify(request: HttpRequest) -> User:
        token = bearer_token(request)
        if token is None:
            return await identify_by_cookie(request)
        try:
            return await sign_in_work(authenticator.authenticate, token)
        except InvalidBearerToken as exc:
            LOGGER.info("bearer token refused: %s", exc)
            audit("bearer_rejected", request=request, reason=str(exc))
            raise invalid_token() from None
        except BearerRefused as refused:
            audit("bearer_rejected", request=request, reason="refused by an on_login hook")
            raise HTTPError(403, refused.message) from None
        except BearerUnavailable as exc:
            LOGGER.warning("bearer token could not be checked: %s", exc)
            raise HTTPError(503, "Cannot check the token right now; try again", headers={"Retry-After": "5"}) from None

    # RFC 6750 3: a 401 for a request without credentials names the Bearer scheme, when
    # this app accepts one (personal tokens of local accounts, or a provider's access tokens).
    config = service.config
    identify.bearer_challenge = (config.users_file is not None  # type: ignore[attr-defined]
                                 or any(p.api_audience for p in config.providers.values()))
    return identify
