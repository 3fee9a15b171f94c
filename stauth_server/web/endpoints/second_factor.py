"""The step after a local account's password (or one-time link) was accepted.

``after_first_factor`` is where every local first factor ends: it signs the browser in,
or (once the second factor is wired) goes on to the second step.
"""

from __future__ import annotations

from ...core.audit import in_request, scope_for
from ...core.oidc.errors import SignInError
from ...core.store import StoreUnavailable
from ..blocking import sign_in_work
from ..context import WebContext
from ..errors import with_retry
from ..exchange import HttpRequest, HttpResponse
from .signin import _finish_login, browser


async def after_first_factor(request: HttpRequest, ctx: WebContext, username: str, next_path: str) -> HttpResponse:
    """Local account ``username`` proved its first factor: sign it in and go on to ``next_path``."""
    service = ctx.signin()
    try:
        done = await sign_in_work(in_request, scope_for(request), service.local_session, username, next_path,
                                  dict(request.cookies), browser(request, ctx), secure=request.secure,
                                  path=ctx.cookie_path)
    except (SignInError, StoreUnavailable) as exc:
        raise with_retry(exc, ctx.app_path("/auth/login")) from None
    return _finish_login(request, ctx, done)


__all__ = ["after_first_factor"]
