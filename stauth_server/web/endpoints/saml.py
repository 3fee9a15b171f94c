"""SAML 2.0 sign-in endpoints (``[auth.NAME] protocol = "saml"``), under ``server.baseUrlPath``:

- ``GET /auth/saml/<provider>/metadata``: this app's SP metadata, for the IdP's admin;
- ``POST /auth/saml/<provider>/acs``: the Assertion Consumer Service (HTTP-POST binding);
- ``GET /auth/saml/<provider>/slo``: where the IdP's LogoutResponse comes back.

``/auth/login?provider=<provider>`` starts a sign-in (``begin_login``) and ``/auth/logout``
a Single Logout (``single_logout``). The IdP's POST to the ACS is cross-site by nature, and
our ``SameSite=Lax`` login cookie does not travel with it: the first POST answers a page
that posts the same form again from our own origin (``web.saml_page``), and that second
POST carries the cookie. Every refusal is a 4xx page (502 when the IdP cannot be had).
"""

from __future__ import annotations

import logging

from ...core.audit import audit, in_request, scope_for
from ...core.errors import HTTPError
from ...core.oidc.errors import SignInError
from ...core.saml.login import SamlLoginRequest, relay_state_ok
from ...core.saml.screen import MAX_RESPONSE_CHARS, decode_response
from ...core.session_records import Session
from ...core.signin import CookieOut, login_cookie_name
from ...core.store import StoreUnavailable
from ..blocking import sign_in_work
from ..context import WebContext
from ..errors import error_page_response, with_retry
from ..exchange import HttpRequest, HttpResponse
from ..saml_page import REPOST_FIELD, saml_repost_page
from . import default_headers
from .signin import _auth_headers, _finish_login, browser, cookie_header, to_provider

LOGGER = logging.getLogger("stauth_server.auth")
#: The largest ACS form accepted: the largest ``SAMLResponse`` and room for RelayState.
MAX_ACS_BODY = MAX_RESPONSE_CHARS + 4 * 1024
FORM_TYPE = "application/x-www-form-urlencoded"
METADATA_TYPE = "application/samlmetadata+xml"


def _provider(request: HttpRequest, ctx: WebContext) -> str:
    """The SAML provider the path names; 404 for any other name."""
    name = request.path_params.get("provider", "")
    if name not in ctx.signin().saml:
        raise HTTPError(404, "Not Found")
    return name


def _only(request: HttpRequest, method: str) -> None:
    if request.method != method:
        raise HTTPError(405, "Method Not Allowed", headers={"Allow": method})


@default_headers(_auth_headers)
async def saml_metadata(request: HttpRequest, ctx: WebContext) -> HttpResponse:
    """``GET /auth/saml/<provider>/metadata``: the SP metadata (entity id, ACS, SLO, certificate)."""
    _only(request, "GET")
    client = ctx.signin().saml[_provider(request, ctx)]
    xml = await sign_in_work(client.metadata_xml)
    return HttpResponse(200, [("Content-Type", METADATA_TYPE)], xml.encode("utf-8"))


async def begin_login(request: HttpRequest, ctx: WebContext, name: str, next_path: str) -> HttpResponse:
    """``/auth/login?provider=<saml provider>``: to the IdP with our AuthnRequest, the login
    cookie (its ID) set."""
    service = ctx.signin()
    return await to_provider(request, ctx, service.begin_saml_login,
                             service.saml_client(name).login_redirect_blocks(), name, next_path)


def _one(request: HttpRequest, name: str) -> str | None:
    """A form field sent at most once (two ``SAMLResponse`` values are refused, not chosen from)."""
    values = request.form.get_all(name)
    if len(values) > 1:
        raise SignInError(f"{name} sent {len(values)} times", "The sign-in response is malformed.")
    return values[0] if values else None


@default_headers(_auth_headers)
async def saml_acs(request: HttpRequest, ctx: WebContext) -> HttpResponse:
    """``POST /auth/saml/<provider>/acs``: the IdP's Response; a verified one starts our session."""
    _only(request, "POST")
    name = _provider(request, ctx)
    retry = ctx.app_path("/auth/login")
    if len(request.body) > MAX_ACS_BODY:
        return error_page_response(ctx, 413, "The sign-in response is too large.", retry)
    if request.header("Content-Type").split(";", 1)[0].strip().lower() != FORM_TYPE:
        return error_page_response(ctx, 400, "The sign-in response is malformed.", retry)
    try:
        saml_response = _one(request, "SAMLResponse")
        relay_state = _one(request, "RelayState")
        marked = _one(request, REPOST_FIELD) == "1"
    except SignInError as exc:
        raise with_retry(exc, retry) from None
    if not saml_response:
        return error_page_response(ctx, 400, "The sign-in response is missing.", retry)
    try:
        decode_response(saml_response)  # base64 within bounds, before any page echoes it
    except SignInError as exc:
        raise with_retry(exc, retry) from None
    cookie = login_cookie_name(relay_state) if relay_state_ok(relay_state) else None
    if not marked and (cookie is None or cookie not in request.cookies):
        # The IdP's cross-site POST, without our Lax cookies: post it again from our origin.
        page = saml_repost_page(ctx.app_path(f"/auth/saml/{name}/acs"), saml_response, relay_state)
        return HttpResponse.html(page)
    if marked and request.header("Sec-Fetch-Site").lower() in ("cross-site", "same-site"):
        # The re-POST comes from our own page; a marked post from elsewhere is a forgery or a loop.
        return error_page_response(ctx, 400, "This sign-in response does not belong to a sign-in started here.",
                                   retry)
    headers = [cookie_header(request, ctx, CookieOut(cookie, None))] if cookie is not None else []
    scope = scope_for(request)
    service = ctx.signin()
    try:
        done = await sign_in_work(in_request, scope, service.complete_saml_login, name, saml_response, relay_state,
                                  dict(request.cookies), browser(request, ctx), secure=request.secure,
                                  path=ctx.cookie_path)
    except (SignInError, StoreUnavailable) as exc:
        raise with_retry(exc, retry, headers) from None
    except Exception:  # pysaml2 or xmlsec1 failing in a way nobody foresaw: still a refusal
        LOGGER.exception("SAML sign-in failed unexpectedly")
        audit("sign_in_failed", request=scope, provider=name, reason="unexpected")
        raise with_retry(SignInError("unexpected", "The sign-in response could not be processed."),
                         retry, headers) from None
    return _finish_login(request, ctx, done, headers)


async def single_logout(request: HttpRequest, ctx: WebContext, record: Session,
                        headers: list[tuple[str, str]]) -> HttpResponse | None:
    """From ``/auth/logout`` (our session already ended): to the IdP with a LogoutRequest when
    it offers Single Logout over HTTP-Redirect; None when it does not."""
    service = ctx.signin()
    relay_state = SamlLoginRequest.new_state()
    try:
        found = await sign_in_work(service.begin_saml_logout, record, relay_state)
    except Exception as exc:  # noqa: BLE001 - our session has ended: the IdP's part is best effort
        LOGGER.warning("SAML Single Logout not started: %s: %s", type(exc).__name__, str(exc)[:200])
        return None
    if found is None:
        return None
    url, cookie = found
    response = HttpResponse(302, list(headers)).set_header("Location", url)
    return response.add_header(*cookie_header(request, ctx, cookie))


@default_headers(_auth_headers)
async def saml_slo(request: HttpRequest, ctx: WebContext) -> HttpResponse:
    """``GET /auth/saml/<provider>/slo``: back from the IdP's Single Logout, on to the app.
    (Logout requests the IdP starts itself are not supported: a 400 page.)"""
    _only(request, "GET")
    name = _provider(request, ctx)
    if "SAMLResponse" not in request.query:
        return error_page_response(ctx, 400, "Single Logout started by the identity provider is not supported "
                                             "here; sign out in the app.")
    relay_state = request.query.get("RelayState")
    headers: list[tuple[str, str]] = []
    if relay_state_ok(relay_state):
        headers.append(cookie_header(request, ctx, CookieOut(login_cookie_name(str(relay_state)), None)))
    try:
        ok = await sign_in_work(ctx.signin().finish_saml_logout, name, request.query_string, relay_state,
                                dict(request.cookies))
    except Exception as exc:  # noqa: BLE001 - informational: our session ended before the IdP's
        LOGGER.info("SAML LogoutResponse unreadable: %s", type(exc).__name__)
        ok = False
    if not ok:
        LOGGER.info("SAML Single Logout at %s not confirmed by the identity provider", name)
    response = HttpResponse(303, headers)
    return response.set_header("Location", ctx.app_path("/"))


__all__ = ["MAX_ACS_BODY", "begin_login", "saml_acs", "saml_metadata", "saml_slo", "single_logout"]
