"""Cookie delivery (``POST /_stauth/cookies/{token}``) and the redirect hand-off
(``GET /_stauth/redirect/{token}``): pending cookie writes reach the browser."""

from __future__ import annotations

from ...core.errors import HTTPError
from ..context import WebContext
from ..cookie_outbox import OUTBOX, DeliveryRefused, browser_binding
from ..csrf import refuse_cross_site
from ..exchange import HttpRequest, HttpResponse
from ..redirects import PENDING_REDIRECTS
from . import default_headers


def _no_store(ctx: WebContext) -> dict[str, str]:
    return {"Cache-Control": "no-store"}


@default_headers(_no_store)
async def deliver_cookies(request: HttpRequest, ctx: WebContext) -> HttpResponse:
    """Hands a session's pending cookie writes to its browser (same-origin only)."""
    if request.method != "POST":
        raise HTTPError(405, "Method Not Allowed")
    refuse_cross_site(request)
    try:
        writes = OUTBOX.take(request.path_params["token"], browser_binding(request.cookies.get(ctx.xsrf_cookie_name)))
    except DeliveryRefused as refused:
        raise HTTPError(refused.status, refused.message) from None
    response = HttpResponse(204)
    for write in writes:
        response.add_header("Set-Cookie", write.header_value())
    return response


@default_headers(_no_store)
async def redirect_handoff(request: HttpRequest, ctx: WebContext) -> HttpResponse:
    """Delivers the session's pending cookies, then 303 to the redirect's target."""
    if request.method != "GET":
        raise HTTPError(405, "Method Not Allowed")
    pending = PENDING_REDIRECTS.take(request.path_params["token"])
    if pending is None:
        raise HTTPError(404, "This redirect link has expired or was already used")
    session_id, url = pending
    response = HttpResponse(303)
    for write in OUTBOX.take_session(session_id, browser_binding(request.cookies.get(ctx.xsrf_cookie_name))):
        response.add_header("Set-Cookie", write.header_value())
    return response.set_header("Location", url)
