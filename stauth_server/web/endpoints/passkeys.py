"""``POST /auth/passkeys/...``: passkeys (WebAuthn) of local accounts.

- ``register/options`` ``{"name": "laptop", "password": "..."}`` and ``register``
  ``{"state", "credential"}``: a signed-in local account adds a passkey (the account page's
  script posts them); the current password is checked (throttled like a sign-in) before any
  challenge is issued, as a session alone must not add a way in that outlives a password reset;
- ``sign-in/options`` ``{}`` and ``sign-in`` ``{"state", "credential", "next"}``: the
  login page's "Sign in with a passkey"; a passkey counts as both factors, so the session
  starts at once (``SignInService.local_session``), the answer is ``{"next": url}``;
- ``remove``: the account page's form (``passkey`` = the credential id), back to the page.

The JSON steps take ``application/json`` only (a cross-site form cannot send it) from the
app's own pages (``refuse_cross_site``), at most ``MAX_BODY`` bytes; every refusal is a
JSON ``{"error": ...}`` with a 4xx. The ceremonies themselves are ``core.accounts.passkeys``.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any
from urllib.parse import urlencode

from ...core.accounts.passkeys import PasskeyError, Passkeys, RelyingParty, remove_passkey
from ...core.accounts.reauth import confirm_password
from ...core.audit import in_request, scope_for
from ...core.errors import HTTPError
from ...core.oidc.errors import SignInError
from ...core.signin import SignInService
from ...core.sources.local import LocalAccount, UsersFileError
from ...core.store import StoreUnavailable
from ..blocking import sign_in_work
from ..context import WebContext
from ..csrf import check_form_request, refuse_cross_site
from ..errors import STORE_DOWN_JSON
from ..exchange import HttpRequest, HttpResponse
from ..json_body import BodyRefused, json_object
from ..http import error_response, render
from ..passkey_page import PASSKEYS_PATH, passkeys_section
from . import default_headers
from .account import ACCOUNT_PATH, SECTIONS
from .signin import _auth_headers, browser, cookie_header, identify_off_loop, safe_next

LOGGER = logging.getLogger("stauth_server.auth")
#: An attestation with a certificate chain is a few KB; nothing we take is near this.
MAX_BODY = 64 * 1024
_CEREMONIES: weakref.WeakKeyDictionary[SignInService, Passkeys | None] = weakref.WeakKeyDictionary()


def ceremonies_for(service: SignInService) -> Passkeys | None:
    """The app's passkey ceremonies; None without local accounts or ``[auth] redirect_uri``."""
    if service not in _CEREMONIES:
        config = service.config
        _CEREMONIES[service] = None if service.users is None or not config.redirect_uri else Passkeys(
            RelyingParty.from_redirect_uri(config.redirect_uri, config.login_branding.title
                                           if config.login_branding.title != "Sign in" else None),
            service.users, service.store, config.cookie_secrets)
    return _CEREMONIES[service]


def _json_error(status: int, message: str, headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse.of(error_response(status, message, headers))


@default_headers(_auth_headers)
async def passkeys(request: HttpRequest, ctx: WebContext) -> HttpResponse:
    """Every passkey step (``request.path_params["action"]``)."""
    if request.method != "POST":
        raise HTTPError(405, "Method Not Allowed", headers={"Allow": "POST"})
    action = request.path_params.get("action", "")
    if action == "remove":
        return await _remove(request, ctx)
    refuse_cross_site(request, xsrf_cookie=ctx.xsrf_cookie_name)
    ceremonies = ceremonies_for(ctx.signin())
    if ceremonies is None:
        return _json_error(404, "Passkeys are not available here")
    try:
        posted = json_object(request, MAX_BODY)
    except BodyRefused as refused:
        return _json_error(refused.status, refused.message)
    binding = browser(request, ctx)
    if not binding:
        return _json_error(400, "Reload the page and try again")
    scope = scope_for(request)
    try:
        if action == "sign-in/options":
            ceremony = ceremonies.begin_sign_in(binding)
            return HttpResponse.of(render({"publicKey": ceremony.options, "state": ceremony.state}))
        if action == "sign-in":
            return await _sign_in(request, ctx, ceremonies, binding, posted)
        username = await _local_username(request, ctx)
        if username is None:
            return _json_error(401, "Sign in with your password first")
        if action == "register/options":
            service = ctx.signin()
            assert service.users is not None
            try:
                await sign_in_work(in_request, scope, confirm_password, service.users, service.throttle, username,
                                   posted.get("password"), request.client_ip, event="passkey_add_failed")
            except SignInError as exc:
                return _json_error(exc.status, exc.user_message)
            name = posted.get("name")
            ceremony = await sign_in_work(in_request, scope, ceremonies.begin_registration, username,
                                          name if isinstance(name, str) else "", binding)
            return HttpResponse.of(render({"publicKey": ceremony.options, "state": ceremony.state}))
        if action == "register":
            await sign_in_work(in_request, scope, ceremonies.finish_registration, username, binding,
                               posted.get("state"), posted.get("credential"))
            return HttpResponse.of(render({"next": ctx.app_path(ACCOUNT_PATH) + "?passkey=added"}))
    except PasskeyError as exc:
        LOGGER.info("passkey %s refused: %s", action, exc.reason)
        return _json_error(exc.status, exc.message)
    except StoreUnavailable:
        return _json_error(503, STORE_DOWN_JSON, {"Retry-After": "5"})
    except UsersFileError as exc:
        LOGGER.warning("passkeys: %s", exc)
        return _json_error(503, "Accounts are unavailable right now. Try again later.", {"Retry-After": "5"})
    return _json_error(404, "No such passkey step")


async def _sign_in(request: HttpRequest, ctx: WebContext, ceremonies: Passkeys, binding: str,
                   posted: dict[str, Any]) -> HttpResponse:
    """A passkey is both factors: its account's session starts here, then on to ``next``."""
    service = ctx.signin()
    scope = scope_for(request)
    next_path = safe_next(posted.get("next") if isinstance(posted.get("next"), str) else None)
    account: LocalAccount = await sign_in_work(in_request, scope, ceremonies.finish_sign_in, binding,
                                               posted.get("state"), posted.get("credential"))
    try:
        done = await sign_in_work(in_request, scope, service.local_session, account.username, next_path,
                                  dict(request.cookies), binding, secure=request.secure, path=ctx.cookie_path)
    except SignInError as exc:
        return _json_error(401 if exc.status == 400 else exc.status, exc.user_message)
    response = HttpResponse.of(render({"next": ctx.app_path(done.next_path)}))
    for cookie in done.cookies:
        response.add_header(*cookie_header(request, ctx, cookie))
    ctx.publish_identity(binding, done.record, done.user)
    return response


async def _local_username(request: HttpRequest, ctx: WebContext) -> str | None:
    """The signed-in local account's username; None for visitors and other providers' users."""
    service = ctx.signin()
    resolved = await identify_off_loop(service, request, ctx)
    if not resolved.user.is_logged_in or resolved.record is None or resolved.user.provider != "local" \
            or service.users is None:
        return None
    return resolved.record.data.subject


async def _remove(request: HttpRequest, ctx: WebContext) -> HttpResponse:
    """The account page's remove button: a form post, XSRF-checked, back to the page."""
    check_form_request(request, xsrf_cookie=ctx.xsrf_cookie_name, methods=("POST",))
    username = await _local_username(request, ctx)
    if username is None:
        return HttpResponse.redirect(ctx.app_path("/auth/login") + "?" + urlencode({"next": ACCOUNT_PATH}), 303)
    users = ctx.signin().users
    assert users is not None
    credential_id = request.form.get("passkey", "") or ""
    try:
        removed = await sign_in_work(in_request, scope_for(request), remove_passkey, users, username, credential_id)
    except UsersFileError as exc:
        LOGGER.warning("passkeys: %s", exc)
        raise HTTPError(503, "Accounts are unavailable right now. Try again later.") from None
    if removed is None:
        raise HTTPError(404, "No such passkey")
    return HttpResponse.redirect(ctx.app_path(ACCOUNT_PATH) + "?passkey=removed", 303)


_NOTICES = {"added": "Your passkey was added.", "removed": "The passkey was removed."}


def account_section(request: HttpRequest, ctx: WebContext, account: LocalAccount, xsrf_form_html: str) -> str:
    """The account page's passkeys section (``account.SECTIONS``)."""
    ceremonies = ceremonies_for(ctx.signin())
    notice = _NOTICES.get(request.query.get("passkey") or "") if request.method == "GET" else None
    return passkeys_section(account.passkeys, base=ctx.app_path(PASSKEYS_PATH), xsrf_form_html=xsrf_form_html,
                            origin=ceremonies.rp.origin if ceremonies is not None else None,
                            served_at=f"{request.scheme}://{request.host}".lower(), notice=notice)


SECTIONS.append(account_section)

__all__ = ["MAX_BODY", "account_section", "ceremonies_for", "passkeys"]
