"""The second factor of local accounts, over HTTP.

- ``after_first_factor``: where every local first factor ends (password form, one-time
  link). An account without a second factor, and not required to have one, is signed in;
  any other waits, signed out, on the second step: its state stays server-side
  (``core.accounts.pending``), the browser holds a cookie naming it.
- ``GET/POST /auth/login/code`` (``second_step``): the 6-digit code or a recovery code; or,
  when ``[auth.local] require_second_factor`` applies and none is set up, the mandatory
  enrolment, then the recovery codes once, then on to ``next``.
- ``POST /auth/account/totp`` (``account_totp``): set up (current password required) or turn
  off the second factor from the account page, whose section (``totp_section``) this module
  adds to ``account.SECTIONS``.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from html import escape
from urllib.parse import urlencode

from ...core.accounts.pending import PENDING_COOKIE, PENDING_SECONDS, PendingHandle, PendingStep, PendingSteps
from ...core.accounts.second_step import CodeRefused, SecondStep
from ...core.audit import in_request, scope_for
from ...core.errors import HTTPError
from ...core.oidc.errors import SignInError
from ...core.session_cookie import cookie_name
from ...core.session_records import credential_fingerprint
from ...core.signin import CompletedLogin, CookieOut, SourceUnavailable, TooManyAttempts, WrongPassword
from ...core.sources.local import LocalAccount, UsersFileError
from ...core.store import StoreUnavailable
from ..blocking import off_loop, sign_in_work
from ..context import WebContext
from ..csrf import check_form_request
from ..errors import with_retry
from ..exchange import HttpRequest, HttpResponse
from ..second_factor_page import (account_form_page, code_page, codes_page, disable_block, enrol_page,
                                  enrolment_block, issuer_name)
from ..xsrf import form_token
from . import default_headers
from .account import ACCOUNT_PATH, SECTIONS, local_account
from .signin import _auth_headers, _finish_login, browser, cookie_header, identify_off_loop

CODE_PATH = "/auth/login/code"
TOTP_PATH = "/auth/account/totp"


class StepGone(SignInError):
    """No second step waits for this browser (expired, finished, forged, another browser's)."""

    status = 400


def _steps(ctx: WebContext) -> PendingSteps:
    service = ctx.signin()
    return PendingSteps(service.store, service.config.cookie_secrets)


def _checks(ctx: WebContext) -> SecondStep:
    service = ctx.signin()
    if service.users is None:
        raise HTTPError(404, "Local accounts are not configured")
    return SecondStep(service.users, service.config.cookie_secrets, service.throttle)


def _pending_cookie_name(request: HttpRequest, ctx: WebContext) -> str:
    return cookie_name(PENDING_COOKIE, secure=request.secure, path=ctx.cookie_path)


def _clear_pending(request: HttpRequest, ctx: WebContext) -> tuple[str, str]:
    return cookie_header(request, ctx, CookieOut(_pending_cookie_name(request, ctx), None))


def _restart_path(ctx: WebContext, next_path: str = "/") -> str:
    return ctx.app_path("/auth/login") + "?" + urlencode({"next": next_path})


def _credential_now(ctx: WebContext, username: str) -> str | None:
    """The fingerprint of local account ``username``'s password hash as stored now (blocks:
    the users file); None when there is no such account."""
    users = ctx.signin().users
    try:
        account = users.accounts().get(username) if users is not None else None
    except UsersFileError as exc:
        raise SourceUnavailable(str(exc), "Password sign-in is unavailable right now. Try again later.") from None
    return credential_fingerprint(account.password_hash) if account is not None else None


def _first_factor_holds(ctx: WebContext, step: PendingStep) -> bool:
    """Whether the password the first step proved is still the account's (blocks): a password
    changed or reset meanwhile ends the step, as it ends every session of the account."""
    now = _credential_now(ctx, step.username)
    return step.credential is not None and now is not None and hmac.compare_digest(step.credential, now)


# --- after the first factor ---------------------------------------------------------------


async def after_first_factor(request: HttpRequest, ctx: WebContext, username: str, next_path: str, *,
                             credential: str | None = None) -> HttpResponse:
    """Local account ``username`` proved its first factor: sign it in and go on to
    ``next_path``, or, when it has or must set up a second factor, to the second step.
    ``credential``: the fingerprint of the password hash the first factor was checked
    against (read from the users file when not given); the step lives only while it holds."""
    service = ctx.signin()
    try:
        needed = await sign_in_work(service.second_factor_needed, username)
        if needed is None:
            done = await sign_in_work(in_request, scope_for(request), service.local_session, username, next_path,
                                      dict(request.cookies), browser(request, ctx), secure=request.secure,
                                      path=ctx.cookie_path)
            return _finish_login(request, ctx, done)
        if credential is None:
            credential = await sign_in_work(_credential_now, ctx, username)
        cookie = await off_loop(_steps(ctx).begin, username, next_path, enrol=needed == "enrol",
                                browser=browser(request, ctx), credential=credential)
    except (SignInError, StoreUnavailable) as exc:
        raise with_retry(exc, ctx.app_path("/auth/login")) from None
    response = HttpResponse.redirect(ctx.app_path(CODE_PATH), 303)
    return response.add_header(*cookie_header(request, ctx, CookieOut(_pending_cookie_name(request, ctx), cookie,
                                                                      PENDING_SECONDS)))


# --- the second step ------------------------------------------------------------------------


@default_headers(_auth_headers)
async def second_step(request: HttpRequest, ctx: WebContext) -> HttpResponse:
    """``/auth/login/code``: GET the step's page, POST its code (or its enrolment)."""
    check_form_request(request, xsrf_cookie=ctx.xsrf_cookie_name)
    checks = _checks(ctx)
    steps = _steps(ctx)
    try:
        handle = await off_loop(steps.find, request.cookies.get(_pending_cookie_name(request, ctx)),
                                browser(request, ctx))
        if handle is not None and not await sign_in_work(_first_factor_holds, ctx, handle.step):
            await off_loop(steps.drop, handle)
            handle = None
    except (SourceUnavailable, StoreUnavailable) as exc:
        raise with_retry(exc, ctx.app_path(CODE_PATH)) from None
    if handle is None:
        raise with_retry(StepGone("no second step for this browser",
                                  "This sign-in step has expired or belongs to another browser. Sign in again."),
                         _restart_path(ctx), [_clear_pending(request, ctx)])
    step = handle.step
    if request.method == "GET":
        if step.enrol:
            secret, sealed = checks.new_candidate(step.username)
            return _enrol_step_page(request, ctx, step.username, step.next_path, secret, sealed)
        return _code_step_page(request, ctx, step.next_path)
    code = request.form.get("code", "") or ""
    try:
        if step.enrol:
            sealed = request.form.get("candidate", "") or ""
            try:
                codes = await sign_in_work(in_request, scope_for(request), checks.enrol, step.username, sealed,
                                           code, request.client_ip, via="sign_in", password=None)  # just checked
            except CodeRefused as exc:
                secret = checks.open_candidate(step.username, sealed)
                if secret is None:
                    raise
                return _enrol_step_page(request, ctx, step.username, step.next_path, secret, sealed, exc.user_message,
                                        exc.status)
            done = await _complete(request, ctx, steps, handle)
            response = HttpResponse.html(codes_page(codes, ctx.app_path(done.next_path), theme=ctx.theme))
            for cookie in done.cookies:
                response.add_header(*cookie_header(request, ctx, cookie))
            ctx.publish_identity(browser(request, ctx), done.record, done.user)
            return response.add_header(*_clear_pending(request, ctx))
        if not code.strip():
            return _code_step_page(request, ctx, step.next_path, "Enter the code from your authenticator app.", 400)
        try:
            await sign_in_work(in_request, scope_for(request), checks.check, step.username, code, request.client_ip)
        except CodeRefused as exc:
            return _code_step_page(request, ctx, step.next_path, exc.user_message, exc.status)
        done = await _complete(request, ctx, steps, handle)
        return _finish_login(request, ctx, done, [_clear_pending(request, ctx)])
    except TooManyAttempts as exc:
        await off_loop(steps.drop, handle)
        raise with_retry(exc, _restart_path(ctx, step.next_path), [_clear_pending(request, ctx)]) from None
    except (SignInError, StoreUnavailable) as exc:
        if isinstance(exc, StoreUnavailable) or exc.status >= 500:  # not the user's doing: the step waits
            raise with_retry(exc, ctx.app_path(CODE_PATH)) from None
        raise with_retry(exc, _restart_path(ctx, step.next_path), [_clear_pending(request, ctx)]) from None


async def _complete(request: HttpRequest, ctx: WebContext, steps: PendingSteps, handle: PendingHandle) -> CompletedLogin:
    """End the step (once) and start the session."""
    if not await off_loop(steps.finish, handle):
        raise StepGone("second step finished twice", "This sign-in step was already completed. Sign in again.")
    service = ctx.signin()
    return await sign_in_work(in_request, scope_for(request), service.local_session, handle.step.username,
                              handle.step.next_path, dict(request.cookies), browser(request, ctx),
                              secure=request.secure, path=ctx.cookie_path)


def _with_token(request: HttpRequest, ctx: WebContext, render: Callable[[str], HttpResponse]) -> HttpResponse:
    """A form page rendered with the XSRF field (and its cookie when the browser has none)."""
    token = form_token(request.cookies, ctx.xsrf_cookie_name, ctx.xsrf_cookie_samesite)
    response = render(token.form_html())
    if token.set_cookie is not None:
        response.add_header("Set-Cookie", token.set_cookie)
    return response


def _code_step_page(request: HttpRequest, ctx: WebContext, next_path: str, error: str | None = None,
                    status: int = 200) -> HttpResponse:
    return _with_token(request, ctx, lambda xsrf: HttpResponse.html(
        code_page(ctx.app_path(CODE_PATH), xsrf, error=error, restart_path=_restart_path(ctx, next_path),
                  theme=ctx.theme),
        status))


def _enrol_step_page(request: HttpRequest, ctx: WebContext, username: str, next_path: str, secret: str, sealed: str,
                     error: str | None = None, status: int = 200) -> HttpResponse:
    issuer = issuer_name(ctx.signin().config.login_branding.title)
    return _with_token(request, ctx, lambda xsrf: HttpResponse.html(enrol_page(
        enrolment_block(ctx.app_path(CODE_PATH), xsrf, secret=secret, sealed=sealed, username=username,
                        issuer=issuer, error=error),
        restart_path=_restart_path(ctx, next_path), theme=ctx.theme), status))


# --- the account page -------------------------------------------------------------------------


def totp_section(request: HttpRequest, ctx: WebContext, account: LocalAccount, xsrf_form_html: str) -> str:
    """The account page's two-factor part: set it up, or turn it off."""
    action = ctx.app_path(TOTP_PATH)
    notice = ""
    if request.method == "GET" and request.query.get("totp") == "off":
        notice = "<p role=status class=notice>Two-factor authentication is off.</p>"
    style = ("<style>.qr{display:block;margin:.5rem auto;background:#fff;padding:.25rem;border-radius:.25rem;"
             "max-width:100%;height:auto}.secret{font-family:ui-monospace,monospace;overflow-wrap:anywhere}</style>")
    if account.has_second_factor:
        return style + notice + disable_block(action, xsrf_form_html, username=account.username,
                                              recovery_left=len(account.recovery_codes))
    secret, sealed = _checks(ctx).new_candidate(account.username)
    return style + notice + enrolment_block(action, xsrf_form_html, secret=secret, sealed=sealed,
                                            username=account.username,
                                            issuer=issuer_name(ctx.signin().config.login_branding.title),
                                            ask_password=True)


SECTIONS.append(totp_section)


@default_headers(_auth_headers)
async def account_totp(request: HttpRequest, ctx: WebContext) -> HttpResponse:
    """``POST /auth/account/totp``: ``action=enrol`` (current password + sealed candidate +
    code) or ``action=disable`` (password + code or recovery code), for the signed-in local
    account."""
    check_form_request(request, xsrf_cookie=ctx.xsrf_cookie_name, methods=("POST",))
    service = ctx.signin()
    resolved = await identify_off_loop(service, request, ctx)
    if not resolved.user.is_logged_in or resolved.record is None:
        raise HTTPError(401, "Not signed in")
    if resolved.user.provider != "local" or service.users is None:
        raise HTTPError(404, "This account is not managed here")
    checks = _checks(ctx)
    username = resolved.record.data.subject
    action = request.form.get("action", "") or ""
    code = request.form.get("code", "") or ""
    account_path = ctx.app_path(ACCOUNT_PATH)
    scope = scope_for(request)
    if action == "enrol":
        sealed = request.form.get("candidate", "") or ""
        try:
            codes = await sign_in_work(in_request, scope, checks.enrol, username, sealed, code, request.client_ip,
                                       via="account_page", password=request.form.get("password", "") or "")
        except (CodeRefused, WrongPassword, TooManyAttempts) as exc:
            secret = checks.open_candidate(username, sealed)
            if secret is None:
                secret, sealed = checks.new_candidate(username)
            return _account_enrol_page(request, ctx, username, secret, sealed, exc.user_message, exc.status)
        except SignInError as exc:
            return _account_message_page(ctx, exc.user_message, exc.status)
        except StoreUnavailable as exc:
            raise with_retry(exc, account_path) from None
        return HttpResponse.html(codes_page(codes, account_path, continue_label="Back to your account",
                                            theme=ctx.theme))
    if action == "disable":
        password = request.form.get("password", "") or ""
        if not password or not code.strip():
            return await _account_disable_page(request, ctx, username, "Enter your password and a code.", 400)
        try:
            await sign_in_work(in_request, scope, checks.disable, username, password, code, request.client_ip)
        except SignInError as exc:
            return await _account_disable_page(request, ctx, username, exc.user_message, exc.status)
        except StoreUnavailable as exc:
            raise with_retry(exc, account_path) from None
        return HttpResponse.redirect(account_path + "?totp=off", 303)
    raise HTTPError(400, "Unknown action")


def _account_enrol_page(request: HttpRequest, ctx: WebContext, username: str, secret: str, sealed: str,
                        error: str, status: int) -> HttpResponse:
    issuer = issuer_name(ctx.signin().config.login_branding.title)
    return _with_token(request, ctx, lambda xsrf: HttpResponse.html(account_form_page(
        enrolment_block(ctx.app_path(TOTP_PATH), xsrf, secret=secret, sealed=sealed, username=username,
                        issuer=issuer, error=error, ask_password=True),
        ctx.app_path(ACCOUNT_PATH), theme=ctx.theme), status))


def _account_message_page(ctx: WebContext, error: str, status: int) -> HttpResponse:
    """A refusal that is not about the code (already enrolled, form expired): say so."""
    page = account_form_page(f"<p class=error role=alert>{escape(error)}</p>", ctx.app_path(ACCOUNT_PATH),
                             theme=ctx.theme)
    return HttpResponse.html(page, status)


async def _account_disable_page(request: HttpRequest, ctx: WebContext, username: str, error: str,
                                status: int) -> HttpResponse:
    account = await local_account(ctx, username)
    left = len(account.recovery_codes) if account is not None else 0
    return _with_token(request, ctx, lambda xsrf: HttpResponse.html(account_form_page(
        disable_block(ctx.app_path(TOTP_PATH), xsrf, username=username, recovery_left=left, error=error),
        ctx.app_path(ACCOUNT_PATH), theme=ctx.theme), status))


__all__ = ["CODE_PATH", "TOTP_PATH", "account_totp", "after_first_factor", "second_step", "totp_section"]
