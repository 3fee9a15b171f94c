"""Invitation and password-reset links: ``/auth/forgot``, ``/auth/reset`` and ``/auth/invite``.

``/auth/forgot`` takes a username or e-mail address and always answers the same page at
once (the link is issued and e-mailed off the request's path). A link's ``GET`` shows the
set-a-password form (the token moves into the form); its ``POST`` sets the password: an
invitation then signs the person in (``after_first_factor``: a second factor may follow);
a reset ends every session of the account (their credential changed) and sends the
browser to sign in with the new password. Every refused link gets one page and status.
"""

from __future__ import annotations

from ...core.accounts.link_service import LinkService, LinkThrottled
from ...core.accounts.links import INVITE, RESET
from ...core.accounts.recovery_flows import LinkRefused, PasswordRefused
from ...core.audit import in_request, scope_for
from ...core.errors import HTTPError
from ...core.session_records import credential_fingerprint
from ...core.signin import SourceUnavailable
from ...core.sources.local import UsersFileError
from ..blocking import sign_in_work
from ..context import WebContext
from ..csrf import check_form_request
from ..errors import with_retry
from ..exchange import HttpRequest, HttpResponse
from ..recovery_pages import forgot_page, invalid_link_page, reset_requested_page, set_password_page
from ..xsrf import form_token
from . import default_headers
from .second_factor import after_first_factor
from .signin import _auth_headers

FORGOT_PATH = "/auth/forgot"
RESET_PATH = "/auth/reset"
INVITE_PATH = "/auth/invite"
#: Where a reset sends the browser: the login page, with its "password changed" notice.
AFTER_RESET = "/auth/login?reset=1"
#: Status of every refused link (unknown, malformed, used, expired, password changed).
REFUSED_STATUS = 400

_WORDING = {
    INVITE: ("Set your password", "Choose a password to activate your account.", "Set password and sign in"),
    RESET: ("Choose a new password", "Setting it signs your account out everywhere.", "Change password"),
}


def _links(ctx: WebContext) -> LinkService:
    links = ctx.signin().links
    if links is None:
        raise HTTPError(404, "Not Found")
    return links


def _with_token_cookie(response: HttpResponse, set_cookie: str | None) -> HttpResponse:
    if set_cookie is not None:
        response.add_header("Set-Cookie", set_cookie)
    return response


@default_headers(_auth_headers)
async def forgot(request: HttpRequest, ctx: WebContext) -> HttpResponse:
    """``GET`` the form; ``POST`` a request: the same page for every account or none."""
    check_form_request(request, xsrf_cookie=ctx.xsrf_cookie_name)
    links = _links(ctx)
    if not links.resets_available:
        raise HTTPError(404, "Not Found")
    login_path = ctx.app_path("/auth/login")
    if request.method == "POST":
        identifier = (request.form.get("identifier", "") or "").strip()
        if identifier:
            links.request_reset(identifier, request.client_ip, scope_for(request))  # returns at once
            return HttpResponse.html(reset_requested_page(login_path, theme=ctx.theme))
    token = form_token(request.cookies, ctx.xsrf_cookie_name, ctx.xsrf_cookie_samesite)
    error = "Enter your username or e-mail address." if request.method == "POST" else None
    page = forgot_page(ctx.app_path(FORGOT_PATH), login_path, token.form_html(), error=error, theme=ctx.theme)
    return _with_token_cookie(HttpResponse.html(page, 400 if error else 200), token.set_cookie)


@default_headers(_auth_headers)
async def reset(request: HttpRequest, ctx: WebContext) -> HttpResponse:
    """``/auth/reset?token=...``: choose a new password; every session of the account ends."""
    return await _link(request, ctx, RESET, RESET_PATH)


@default_headers(_auth_headers)
async def invite(request: HttpRequest, ctx: WebContext) -> HttpResponse:
    """``/auth/invite?token=...``: an invited person sets their password and is signed in."""
    return await _link(request, ctx, INVITE, INVITE_PATH)


async def _link(request: HttpRequest, ctx: WebContext, purpose: str, path: str) -> HttpResponse:
    check_form_request(request, xsrf_cookie=ctx.xsrf_cookie_name)
    links = _links(ctx)
    source = request.form if request.method == "POST" else request.query
    token = source.get("token", "") or ""
    scope = scope_for(request)
    try:
        if request.method == "GET":
            account = await sign_in_work(links.open, token, purpose)
            return _form(request, ctx, purpose, path, token, account.username)
        new_password = request.form.get("new_password", "") or ""
        account = await sign_in_work(in_request, scope, links.redeem, token, purpose, new_password, request.client_ip)
    except LinkRefused as exc:
        return _refused(ctx, links, exc.user_message, REFUSED_STATUS)
    except LinkThrottled as exc:
        return _refused(ctx, links, exc.user_message, 429).set_header("Retry-After", str(exc.retry_after))
    except PasswordRefused as exc:
        return _form(request, ctx, purpose, path, token, exc.username, error=exc.user_message)
    except UsersFileError as exc:
        raise with_retry(SourceUnavailable(str(exc), "Accounts cannot be changed right now. Try again later."),
                         None) from None
    if purpose == INVITE:
        return await after_first_factor(request, ctx, account.username, "/",
                                        credential=credential_fingerprint(account.password_hash))
    return HttpResponse(303).set_header("Location", ctx.app_path(AFTER_RESET))


def _form(request: HttpRequest, ctx: WebContext, purpose: str, path: str, token: str, username: str, *,
          error: str | None = None) -> HttpResponse:
    title, lead, button = _WORDING[purpose]
    xsrf = form_token(request.cookies, ctx.xsrf_cookie_name, ctx.xsrf_cookie_samesite)
    page = set_password_page(ctx.app_path(path), token, title=title, lead=lead, button=button, username=username,
                             xsrf_form_html=xsrf.form_html(), min_length=ctx.signin().config.min_password_length,
                             error=error, theme=ctx.theme)
    return _with_token_cookie(HttpResponse.html(page, 400 if error else 200), xsrf.set_cookie)


def _refused(ctx: WebContext, links: LinkService, message: str, status: int) -> HttpResponse:
    forgot_path = ctx.app_path(FORGOT_PATH) if links.resets_available else None
    return HttpResponse.html(invalid_link_page(message, ctx.app_path("/auth/login"), forgot_path, theme=ctx.theme),
                             status)


__all__ = ["AFTER_RESET", "FORGOT_PATH", "INVITE_PATH", "RESET_PATH", "forgot", "invite", "reset"]
