"""``/auth/account``: the signed-in user's account page. A local account changes its
password here (the current one required; every other session of the account ends, this
browser gets a new one); an account kept by a provider gets a note saying so."""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlencode

from ...core.audit import in_request, scope_for
from ...core.errors import HTTPError
from ...core.oidc.errors import SignInError
from ...core.sources.local import LocalAccount, UsersFileError
from ...core.store import StoreUnavailable
from ..blocking import sign_in_work
from ..context import WebContext
from ..csrf import check_form_request
from ..errors import with_retry
from ..exchange import HttpRequest, HttpResponse
from ..pages import account_page
from ..xsrf import form_token
from . import default_headers
from .signin import _auth_headers, _finish_login, browser, identify_off_loop

LOGGER = logging.getLogger("stauth_server.auth")
ACCOUNT_PATH = "/auth/account"

#: The local account's other parts on the page, after the password form: each renders an
#: HTML fragment (escaped by its module) from the request, the account and the form's
#: XSRF field. Modules add theirs here (second factor, passkeys).
AccountSection = Callable[[HttpRequest, WebContext, LocalAccount, str], str]
SECTIONS: list[AccountSection] = []


@default_headers(_auth_headers)
async def account(request: HttpRequest, ctx: WebContext) -> HttpResponse:
    """``GET`` the page; ``POST`` the password change form."""
    check_form_request(request, xsrf_cookie=ctx.xsrf_cookie_name)
    service = ctx.signin()
    resolved = await identify_off_loop(service, request, ctx)
    user = resolved.user
    if not user.is_logged_in or resolved.record is None:
        return HttpResponse.redirect(ctx.app_path("/auth/login") + "?" + urlencode({"next": ACCOUNT_PATH}))
    local = user.provider == "local" and service.users is not None
    if request.method == "POST" and not local:
        raise HTTPError(404, "This account is not managed here")
    if request.method == "GET" or not local:
        account = await local_account(ctx, resolved.record.data.subject) if local else None
        return _page(request, ctx, user, local, account=account)
    current = request.form.get("current_password", "") or ""
    new = request.form.get("new_password", "") or ""
    if not current or not new:
        return _page(request, ctx, user, local, error="Enter your current and your new password.", status=400,
                     account=await local_account(ctx, resolved.record.data.subject))
    username = resolved.record.data.subject
    try:
        done = await sign_in_work(in_request, scope_for(request), service.change_password, username, current, new,
                                  request.client_ip, dict(request.cookies), browser(request, ctx),
                                  secure=request.secure, path=ctx.cookie_path)
    except StoreUnavailable as exc:
        raise with_retry(exc, ctx.app_path(ACCOUNT_PATH)) from None
    except SignInError as exc:
        return _page(request, ctx, user, local, error=exc.user_message, status=exc.status,
                     account=await local_account(ctx, username))
    response = _finish_login(request, ctx, done)
    return response.set_header("Location", ctx.app_path(ACCOUNT_PATH) + "?changed=1")


async def local_account(ctx: WebContext, username: str) -> LocalAccount | None:
    """The signed-in local account as the users file has it now (read off the loop); None
    when the file cannot be read just now (the page then shows only the password form)."""
    users = ctx.signin().users
    if users is None:
        return None
    try:
        accounts = await sign_in_work(users.accounts)
    except UsersFileError as exc:
        LOGGER.warning("account page: %s", exc)
        return None
    return accounts.get(username)


def _page(request: HttpRequest, ctx: WebContext, user, local: bool, *, error: str | None = None,
          status: int = 200, account: LocalAccount | None = None) -> HttpResponse:
    service = ctx.signin()
    token = form_token(request.cookies, ctx.xsrf_cookie_name, ctx.xsrf_cookie_samesite)
    provider = service.providers.get(user.provider or "")
    label = None if local else (provider.display_name if provider is not None else (user.provider or "your provider"))
    notice = "Your password was changed. Your other sessions have ended." \
        if request.method == "GET" and request.query.get("changed") == "1" else None
    page = account_page(ctx.app_path(ACCOUNT_PATH), ctx.app_path("/"), name=user.name or user.email or user.id,
                        username=(user.claims.get("preferred_username") or "") if local else "",
                        provider_label=label, xsrf_form_html=token.form_html(), error=error, notice=notice,
                        min_length=service.config.min_password_length, theme=ctx.theme,
                        sections=[section(request, ctx, account, token.form_html()) for section in SECTIONS]
                        if account is not None else ())
    response = HttpResponse.html(page, status)
    if token.set_cookie is not None:
        response.add_header("Set-Cookie", token.set_cookie)
    return response


__all__ = ["ACCOUNT_PATH", "SECTIONS", "AccountSection", "account", "local_account"]
