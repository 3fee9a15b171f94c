"""``POST /auth/firebase/session``: the login page's script, signed in with Firebase's JS
SDK, posts ``{"idToken": "...", "next": "/path"}``; a verified token starts **our**
session (the same encrypted cookie as every other sign-in). Same-origin only, JSON only;
a refused token is a 401 JSON ``{"error": ...}``, never a 5xx."""

from __future__ import annotations

import logging

from ...core.audit import in_request, scope_for
from ...core.errors import HTTPError
from ...core.oidc.errors import SignInError
from ...core.store import StoreUnavailable
from ..blocking import sign_in_work
from ..context import WebContext
from ..csrf import refuse_cross_site
from ..errors import STORE_DOWN_JSON
from ..exchange import HttpRequest, HttpResponse
from ..json_body import BodyRefused, json_object
from ..http import error_response, render
from . import default_headers
from .signin import _auth_headers, browser, cookie_header, safe_next

LOGGER = logging.getLogger("stauth_server.auth")
#: A Firebase ID token is about 1 KB; the body holds it and a path.
MAX_BODY = 32 * 1024


def _json_error(status: int, message: str, headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse.of(error_response(status, message, headers))


@default_headers(_auth_headers)
async def firebase_session(request: HttpRequest, ctx: WebContext) -> HttpResponse:
    """Verify the posted Firebase ID token and start our session; answers ``{"next": url}``."""
    if request.method != "POST":
        raise HTTPError(405, "Method Not Allowed", headers={"Allow": "POST"})
    refuse_cross_site(request, xsrf_cookie=ctx.xsrf_cookie_name)
    service = ctx.signin()
    if not service.firebase:
        raise HTTPError(404, "Firebase sign-in is not configured")
    try:
        posted = json_object(request, MAX_BODY, expected="a JSON object with idToken")
    except BodyRefused as refused:
        return _json_error(refused.status, refused.message)
    name = request.query.get("provider") or (next(iter(service.firebase)) if len(service.firebase) == 1 else None)
    if name is None or name not in service.firebase:
        return _json_error(400, "Name the Firebase provider (?provider=NAME)")
    next_path = safe_next(posted.get("next") if isinstance(posted.get("next"), str) else None)
    try:
        done = await sign_in_work(in_request, scope_for(request), service.firebase_login, name, posted.get("idToken"),
                                  next_path, dict(request.cookies), browser(request, ctx), secure=request.secure,
                                  path=ctx.cookie_path)
    except StoreUnavailable:
        return _json_error(503, STORE_DOWN_JSON, {"Retry-After": "5"})
    except SignInError as exc:
        LOGGER.info("Firebase sign-in refused: %s", exc)
        status = 401 if exc.status == 400 else exc.status
        return _json_error(status, exc.user_message if exc.user_message != "Sign-in failed." else
                           "The Firebase sign-in could not be verified.")
    response = HttpResponse.of(render({"next": ctx.app_path(done.next_path)}))
    for cookie in done.cookies:
        response.add_header(*cookie_header(request, ctx, cookie))
    ctx.publish_identity(browser(request, ctx), done.record, done.user)
    return response


__all__ = ["firebase_session", "MAX_BODY"]
