"""The sign-in endpoints: ``/auth/login``, ``/oauth2callback``, ``/auth/logout``, ``/auth/userinfo``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from ...core.audit import audit, in_request, request_scope, scope_for
from ...core.errors import HTTPError, RedirectError
from ...core.identity import ANONYMOUS, user_id
from ...core.login_branding import OBSERVED_LOGO
from ...core.oidc.errors import SignInError
from ...core.signin import (CompletedLogin, CookieOut, LocalFirstFactor, ResolvedSession, SignInService,
                              login_cookie_name)
from ...core.store import StoreUnavailable
from ..blocking import off_loop, sign_in_work
from ..context import WebContext
from ..cookie_outbox import browser_binding
from ..cookie_rules import CookieWrite
from ..csrf import refuse_cross_site
from ..errors import with_retry
from ..exchange import HttpRequest, HttpResponse
from ..http import render
from ..firebase_page import firebase_block, firebase_sign_out_page
from ..passkey_page import PASSKEYS_PATH, passkey_sign_in
from ..pages import login_page, logout_confirm_page
from ..redirects import safe_app_path
from ..xsrf import form_token
from . import default_headers

LOGGER = logging.getLogger("stauth_server.auth")
SESSION_COOKIE_PREFIXES = ("stauth_session", "__Host-stauth_session")
#: The login page's notice after a password reset (``/auth/login?reset=1``).
PASSWORD_RESET_NOTICE = "Your password was changed. Sign in with it."


def security_headers(frame_ancestors: tuple[str, ...]) -> dict[str, str]:
    """Headers on every auth endpoint: no framing by other sites, no referrer, no caching."""
    headers = {
        "Content-Security-Policy": "frame-ancestors " + " ".join(frame_ancestors),
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
    if frame_ancestors == ("'self'",) or frame_ancestors == ("'none'",):
        headers["X-Frame-Options"] = "DENY"
    return headers


def _auth_headers(ctx: WebContext) -> dict[str, str]:
    return {"X-Content-Type-Options": "nosniff", **security_headers(ctx.signin().config.frame_ancestors)}


def safe_next(raw: str | None) -> str:
    """A same-app path to return to after sign-in (relative to the base path)."""
    if not raw:
        return "/"
    try:
        return safe_app_path(raw, "")  # its ASCII form: a Location header carries no raw UTF-8
    except RedirectError:
        return "/"


def cookie_header(request: HttpRequest, ctx: WebContext, cookie: CookieOut) -> tuple[str, str]:
    """Set (or clear) one of our cookies: HttpOnly, SameSite=Lax, Secure on https."""
    write = CookieWrite(name=cookie.name, value=cookie.value, path=ctx.cookie_path, max_age=cookie.max_age,
                        secure=request.secure or cookie.name.startswith("__Host-"))
    return ("Set-Cookie", write.header_value())


def browser(request: HttpRequest, ctx: WebContext) -> str | None:
    return browser_binding(request.cookies.get(ctx.xsrf_cookie_name))


def identify(service: SignInService, request: HttpRequest, ctx: WebContext, *, touch: bool = True) -> ResolvedSession:
    """Who sent the request: a trusted proxy's headers, else our session cookie (blocks)."""
    with request_scope(request):
        return service.identify(request.cookies, request.joined_headers, request.peer, secure=request.secure,
                                path=ctx.cookie_path, touch=touch)


async def identify_off_loop(service: SignInService, request: HttpRequest, ctx: WebContext) -> ResolvedSession:
    """``identify`` off the event loop (the store may be across the network), or at once for
    a request with neither our session cookie nor a trusted proxy's headers: a visitor."""
    if not service.needs_lookup(request.cookies, request.peer, secure=request.secure, path=ctx.cookie_path):
        return ResolvedSession()
    return await off_loop(in_request, scope_for(request), identify, service, request, ctx)


def _finish_login(request: HttpRequest, ctx: WebContext, done: CompletedLogin,
                  headers: list[tuple[str, str]] | None = None) -> HttpResponse:
    """The new session's cookies, the browser's other tabs told, on to ``next``."""
    response = HttpResponse(303, list(headers or ()))
    for cookie in done.cookies:
        response.add_header(*cookie_header(request, ctx, cookie))
    ctx.publish_identity(browser(request, ctx), done.record, done.user)
    return response.set_header("Location", ctx.app_path(done.next_path))


def _with_xsrf(response: HttpResponse, token_cookie: str | None) -> HttpResponse:
    if token_cookie is not None:
        response.add_header("Set-Cookie", token_cookie)
    return response


def _login_page(request: HttpRequest, ctx: WebContext, next_path: str, error: str | None = None,
                username: str = "", status: int = 200) -> HttpResponse:
    service = ctx.signin()
    providers = [(name, p.display_name) for name, p in service.providers.items()]
    providers += [(name, client.provider.display_name) for name, client in service.saml.items()]
    token = form_token(request.cookies, ctx.xsrf_cookie_name, ctx.xsrf_cookie_samesite)
    config = service.config
    page = login_page(ctx.app_path("/auth/login"), providers, next_path, password_sources=service.password_sources,
                      xsrf_form_html=token.form_html(), error=error, username=username, theme=ctx.theme,
                      template=service.login_template, source_chooser=config.password_source_chooser,
                      title=config.login_branding.title,
                      logo_url=config.login_branding.logo_url or OBSERVED_LOGO.url,
                      firebase_html=firebase_block([c for c, _ in service.firebase.values()],
                                                   ctx.app_path("/auth/firebase/session"), next_path),
                      forgot_path=ctx.app_path("/auth/forgot") if service.links and service.links.resets_available
                      else None,
                      notice=PASSWORD_RESET_NOTICE if request.method == "GET" and request.query.get("reset") == "1"
                      else None,
                      passkey_html=passkey_sign_in(ctx.app_path(PASSKEYS_PATH), next_path, config.redirect_uri)
                      if service.users is not None and config.redirect_uri else "")
    return _with_xsrf(HttpResponse.html(page, status), token.set_cookie)


def _referring_path(request: HttpRequest, ctx: WebContext) -> str | None:
    referer = request.header("Referer")
    if not referer:
        return None
    parts = urlsplit(referer)
    if parts.netloc != request.host:
        return None
    return ctx.strip_base(parts.path) + (f"?{parts.query}" if parts.query else "")


@default_headers(_auth_headers)
async def login(request: HttpRequest, ctx: WebContext) -> HttpResponse:
    """``/auth/login``: every way in (provider buttons, the password form), or straight to
    the only provider; ``?provider=NAME&next=/path``; POST takes the password form."""
    if request.method == "POST":
        return await password_login(request, ctx)
    if request.method != "GET":
        raise HTTPError(405, "Method Not Allowed")
    service = ctx.signin()
    next_path = safe_next(request.query.get("next") or _referring_path(request, ctx))
    provider = request.query.get("provider")
    providers = service.providers
    choices = [*providers, *service.saml]
    if provider is None and len(choices) == 1 and not service.password_sources and not service.firebase:
        provider = choices[0]
    if provider is None or provider in service.firebase:  # Firebase signs in on the page itself
        return _login_page(request, ctx, next_path)
    if provider in service.saml:
        from . import saml  # (it imports this module)

        return await saml.begin_login(request, ctx, provider, next_path)
    if provider not in providers:
        raise with_retry(SignInError(f"unknown provider {provider[:64]!r}", "This sign-in option does not exist."),
                         ctx.app_path("/auth/login"))
    return await to_provider(request, ctx, service.begin_login, service.begin_login_blocks(provider),
                             provider, next_path)


async def to_provider(request: HttpRequest, ctx: WebContext, begin: Callable[[str, str], tuple[str, CookieOut]],
                      blocks: bool, provider: str, next_path: str) -> HttpResponse:
    """Start a sign-in at a provider (OIDC or SAML): ``begin`` builds its URL and the login
    cookie, on a thread when it ``blocks`` (metadata to fetch), else at once (microseconds of
    CPU, cheaper than a trip to a thread); the oldest login cookies past the limit go."""
    try:
        url, cookie = await sign_in_work(begin, provider, next_path) if blocks else begin(provider, next_path)
    except SignInError as exc:
        raise with_retry(exc, request.uri) from None
    response = HttpResponse.redirect(url)
    for stale in ctx.signin().stale_login_cookies(request.cookies):
        response.add_header(*cookie_header(request, ctx, CookieOut(stale, None)))
    return response.add_header(*cookie_header(request, ctx, cookie))


async def password_login(request: HttpRequest, ctx: WebContext) -> HttpResponse:
    """``POST /auth/login``: the password form."""
    refuse_cross_site(request, xsrf_cookie=ctx.xsrf_cookie_name, token_overrides=True)
    service = ctx.signin()
    next_path = safe_next(request.form.get("next"))
    username = (request.form.get("username", "") or "").strip()[:128]
    password = request.form.get("password", "") or ""
    if not username or not password:
        return _login_page(request, ctx, next_path, "Enter your username and password.", username, status=400)
    try:
        done = await sign_in_work(in_request, request, service.password_login, username, password, request.client_ip,
                                  next_path, dict(request.cookies), browser(request, ctx), secure=request.secure,
                                  path=ctx.cookie_path, source=request.form.get("source"), second_step=True)
    except SignInError as exc:
        LOGGER.info("password sign-in failed: %s", exc)
        return _login_page(request, ctx, next_path, exc.user_message, username,
                           status=exc.status if exc.status != 400 else 401)
    except StoreUnavailable as exc:
        raise with_retry(exc, ctx.app_path("/auth/login")) from None
    if isinstance(done, LocalFirstFactor):
        from .second_factor import after_first_factor  # (it imports this module)

        return await after_first_factor(request, ctx, done.username, done.next_path, credential=done.credential)
    return _finish_login(request, ctx, done)


@default_headers(_auth_headers)
async def callback(request: HttpRequest, ctx: WebContext) -> HttpResponse:
    """``GET /oauth2callback``: completes a sign-in (or returns from the provider's logout)."""
    if request.method != "GET":
        raise HTTPError(405, "Method Not Allowed")
    service = ctx.signin()
    params = request.query.last_values()
    if not any(k in params for k in ("code", "error")):
        return HttpResponse.redirect(ctx.app_path("/"))  # back from RP-initiated logout
    headers: list[tuple[str, str]] = []
    if params.get("state"):
        headers.append(cookie_header(request, ctx, CookieOut(login_cookie_name(params["state"]), None)))
    retry = ctx.app_path("/auth/login")
    scope = scope_for(request)
    try:
        done = await sign_in_work(in_request, scope, service.complete_login, params, dict(request.cookies),
                                  browser(request, ctx), secure=request.secure, path=ctx.cookie_path)
    except (SignInError, StoreUnavailable) as exc:
        raise with_retry(exc, retry, headers) from None
    except Exception:
        LOGGER.exception("sign-in failed unexpectedly")
        audit("sign_in_failed", request=scope, provider=None, reason="unexpected")
        raise with_retry(SignInError("unexpected", "Sign-in failed unexpectedly. Try again."), retry, headers) from None
    return _finish_login(request, ctx, done, headers)


@default_headers(_auth_headers)
async def logout(request: HttpRequest, ctx: WebContext) -> HttpResponse:
    """``/auth/logout``: revokes the session, clears cookies, RP-initiated logout.

    A GET counts only from the app itself (``Sec-Fetch-Site: same-origin`` or typed by
    the user); from elsewhere it shows a confirmation with a CSRF-protected POST.
    """
    if request.method == "POST":
        refuse_cross_site(request, xsrf_cookie=ctx.xsrf_cookie_name, token_overrides=True)
        return await _logout(request, ctx)
    if request.method != "GET":
        raise HTTPError(405, "Method Not Allowed")
    if request.header("Sec-Fetch-Site").lower() in ("same-origin", "none"):
        return await _logout(request, ctx)
    token = form_token(request.cookies, ctx.xsrf_cookie_name, ctx.xsrf_cookie_samesite)
    page = logout_confirm_page(ctx.app_path("/auth/logout"), token.form_html(), ctx.app_path("/"))
    return _with_xsrf(HttpResponse.html(page), token.set_cookie)


async def _logout(request: HttpRequest, ctx: WebContext) -> HttpResponse:
    """Revoke the session, clear our cookies, tell the browser's tabs on every replica.

    With the store away the cookies are still cleared (without them the record's key
    is gone from this browser) and a 503 page says the server could not revoke it.
    """
    service = ctx.signin()
    cookies = dict(request.cookies)
    headers = [cookie_header(request, ctx, CookieOut(name, None))
               for name in cookies if name.startswith(SESSION_COOKIE_PREFIXES)]
    scope = scope_for(request)
    try:
        resolved = await off_loop(in_request, scope, service.resolve, cookies, secure=request.secure,
                                  path=ctx.cookie_path, touch=False)
        await off_loop(service.end_session, resolved.record)
    except StoreUnavailable as exc:
        raise with_retry(exc, ctx.app_path("/auth/logout"), headers) from None
    if resolved.record is not None:
        data = resolved.record.data
        audit("sign_out", user_id=user_id(data.issuer, data.subject), request=scope, provider=data.provider)
    ctx.publish_identity(browser(request, ctx), None, ANONYMOUS)
    if resolved.record is not None and resolved.record.data.provider in service.firebase:
        firebase = service.firebase[resolved.record.data.provider][0]
        page = HttpResponse.html(firebase_sign_out_page([firebase], ctx.app_path("/")))
        page.headers[:0] = headers  # the cookies cleared
        return page
    if resolved.record is not None and resolved.record.provider in service.saml:
        from . import saml  # (it imports this module)

        single_logout = await saml.single_logout(request, ctx, resolved.record, headers)
        if single_logout is not None:
            return single_logout
    target = await sign_in_work(service.logout_url, resolved.record, str(service.config.redirect_uri))
    return HttpResponse(302, headers).set_header("Location", target or ctx.app_path("/"))


@default_headers(_auth_headers)
async def userinfo(request: HttpRequest, ctx: WebContext) -> HttpResponse:
    """``GET /auth/userinfo``: the current identity as JSON (never tokens); 401 when anonymous."""
    if request.method != "GET":
        raise HTTPError(405, "Method Not Allowed")
    resolved = await identify_off_loop(ctx.signin(), request, ctx)
    headers = [cookie_header(request, ctx, cookie) for cookie in resolved.clear]
    if resolved.refused is not None:
        raise with_retry(HTTPError(403, resolved.refused), None, headers)
    if not resolved.user.is_logged_in:
        raise with_retry(HTTPError(401, "Not signed in"), None, headers)
    response = HttpResponse.of(render(resolved.user.public_dict()))
    response.headers[:0] = headers
    return response


__all__ = ["login", "password_login", "callback", "logout", "userinfo", "security_headers", "safe_next", "identify"]
