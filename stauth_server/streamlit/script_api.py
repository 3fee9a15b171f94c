"""What an app script calls: ``sa.cookies``, ``sa.redirect``, ``sa.user``.

These run on the script thread. They find their session through Streamlit's script run
context and talk to the server through the cookie outbox and the pending redirects.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import streamlit as st

from . import internals
from ..web.cookie_outbox import OUTBOX, browser_binding
from ..web.cookie_rules import build_write
from ..core import access, guards
from ..core.audit import RequestFacts, audit
from ..core.guards import Decision, decide
from ..core.identity import ANONYMOUS, User
from .live_sessions import LIVE
from .resumption import end_resumption
from .app_paths import app_path, base_prefix, cookie_path, strip_base
from ..web.middleware import Redirect, RedirectRequested, in_middleware
from ..web.redirects import PENDING_REDIRECTS, resolve

#: Our internal endpoints, relative to ``server.baseUrlPath``.
COOKIE_DELIVERY_PATH = "/_stauth/cookies"
REDIRECT_HANDOFF_PATH = "/_stauth/redirect"


def _require_ctx(what: str) -> Any:
    ctx = internals.script_run_ctx()
    if ctx is None:
        raise RuntimeError(f"{what} works only inside a running Streamlit app (streamlit-auth run app.py)")
    return ctx


def _page_origin() -> str | None:
    """``scheme://host[:port]`` of the page in the user's browser, when known."""
    url = st.context.url
    if url:
        parts = urlsplit(url)
        if parts.scheme and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}"
    origin = st.context.headers.get("Origin")
    return origin or None


def _page_is_https() -> bool:
    origin = _page_origin()
    return bool(origin and origin.lower().startswith("https://"))


def _delivery_element(url: str) -> None:
    """Render an invisible element whose script asks our endpoint for the cookies."""
    script = (
        "<script>fetch(%s,{method:'POST',credentials:'same-origin',cache:'no-store'})"
        ".catch(function(e){console.error('streamlit-auth: cookie delivery failed',e)});</script>"
    ) % json.dumps(url)
    st.html(script, unsafe_allow_javascript=True)


class ScriptCookies(Mapping[str, str]):
    """The browser's cookies as this session sees them, including its own pending writes.

    Reading is ``st.context.cookies`` (captured when the page connected) overlaid with
    what this session has set or deleted since. Writes reach the browser as real
    ``Set-Cookie`` headers from our server, without reloading the page.
    """

    def _current(self) -> dict[str, str]:
        ctx = internals.script_run_ctx()
        sent = st.context.cookies.to_dict() if ctx is not None else {}
        if ctx is None:
            return sent
        return OUTBOX.view(ctx.session_id, sent)

    def __getitem__(self, name: str) -> str:
        return self._current()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._current())

    def __len__(self) -> int:
        return len(self._current())

    def to_dict(self) -> dict[str, str]:
        return self._current()

    def set(
        self,
        name: str,
        value: str,
        *,
        max_age: int | dt.timedelta | None = None,
        expires: dt.datetime | int | float | None = None,
        path: str | None = None,
        secure: bool | None = None,
        httponly: bool = True,
        samesite: str = "Lax",
    ) -> None:
        """Set a cookie in the user's browser (HttpOnly, SameSite=Lax by default).

        ``path`` defaults to the app's base path; ``secure`` to whether the page is on
        https. Raises ``CookieError`` for a bad name or value before anything is sent.
        """
        write = build_write(
            name,
            value,
            default_path=cookie_path(),
            page_is_https=_page_is_https(),
            max_age=max_age,
            expires=expires,
            path=path,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )
        self._send(write)

    def delete(self, name: str, path: str | None = None) -> None:
        """Delete a cookie from the user's browser (same name and path as when set)."""
        write = build_write(
            name,
            None,
            default_path=cookie_path(),
            page_is_https=_page_is_https(),
            path=path,
        )
        self._send(write)

    def _send(self, write: Any) -> None:
        ctx = _require_ctx("sa.cookies.set/delete")
        binding = browser_binding(st.context.cookies.get(internals.XSRF_COOKIE_NAME))
        _forget_ended_sessions(ctx.session_id)
        signed_in = current_user().is_logged_in
        delivery = OUTBOX.add(ctx.session_id, internals.script_run_marker(ctx), write, binding, signed_in=signed_in)
        if delivery is not None:
            _delivery_element(app_path(f"{COOKIE_DELIVERY_PATH}/{delivery.token}"))

    def __repr__(self) -> str:
        return f"ScriptCookies({sorted(self._current())!r})"


cookies = ScriptCookies()


def _forget_ended_sessions(running_session_id: str) -> None:
    """Drop what ended sessions left waiting (Streamlit is asked at most every few seconds).

    A session ends for us when Streamlit no longer counts it as active (its tab closed
    or its websocket dropped); the session running this script is alive by definition.
    """

    def is_alive(session_id: str) -> bool:
        return session_id == running_session_id or internals.is_active_session(session_id)

    OUTBOX.forget_sessions(is_alive)
    PENDING_REDIRECTS.forget_sessions(is_alive)


def redirect(url: str, *, external: bool = False) -> None:
    """Navigate the browser's top window to ``url`` and stop the script.

    A path (``"/billing"``) is relative to the app's base path. Another origin needs
    ``external=True``. Open-redirect forms (``javascript:``, ``//host``, ``/\\host``,
    control characters...) raise ``RedirectError`` and navigate nowhere.

    Inside an ``@sa.middleware`` it is the middleware's redirect (as if it returned
    ``sa.Redirect(url, external=external)``), for pages and endpoints alike.
    """
    if in_middleware():
        raise RedirectRequested(Redirect(url, external))
    target = resolve(url, base_path=base_prefix(), external=external, app_origin=_page_origin())
    ctx = _require_ctx("sa.redirect")
    if OUTBOX.has_pending(ctx.session_id):
        _forget_ended_sessions(ctx.session_id)
        token = PENDING_REDIRECTS.add(ctx.session_id, target, signed_in=current_user().is_logged_in)
        target = app_path(f"{REDIRECT_HANDOFF_PATH}/{token}")
    internals.enqueue_browser_redirect(ctx, target)
    internals.stop_script()


def current_user() -> User:
    """The signed-in user of the running session, or ``ANONYMOUS``."""
    ctx = internals.script_run_ctx()
    if ctx is None:
        return ANONYMOUS
    return LIVE.user_of(ctx.session_id)


# @sa.requires without user= asks for the running session's user (core knows no Streamlit).
guards.session_user = lambda: current_user()


class _CurrentUser:
    """``sa.user``: the signed-in user of the running session, or an anonymous one."""

    def _get(self) -> User:
        return current_user()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._get(), name)

    def __repr__(self) -> str:
        return repr(self._get())


user = _CurrentUser()



def login(provider: str | None = None, next: str | None = None) -> None:  # noqa: A002 - public name
    """Send the browser to sign in, then back to ``next`` (default: the current page).

    With several providers and none named, the user picks one on the chooser page.
    """
    ctx = _require_ctx("sa.login")
    query: dict[str, str] = {"next": _safe_return_path(next) if next is not None else _current_page()}
    if provider is not None:
        query["provider"] = provider
    internals.enqueue_browser_redirect(ctx, app_path("/auth/login") + "?" + urlencode(query))


def account_url() -> str:
    """The signed-in user's account page (``/auth/account`` under ``server.baseUrlPath``):
    for a "My account" link, e.g. ``st.link_button("My account", sa.account_url())``."""
    return app_path("/auth/account")


def logout() -> None:
    """Sign the user out everywhere in this browser (and at the provider, when it allows)."""
    ctx = _require_ctx("sa.logout")
    end_resumption(ctx.session_id)
    ctx.user_info.clear()
    ctx.user_info["is_logged_in"] = False
    internals.enqueue_browser_redirect(ctx, app_path("/auth/logout"))


def _safe_return_path(path: str) -> str:
    resolve(path, base_path="", external=False, app_origin=None)
    return path


def _current_page() -> str:
    """The current page's path relative to the app, with its query string."""
    url = st.context.url or ""
    path = strip_base(urlsplit(url).path or "/")
    query = urlencode([(k, v) for k in st.query_params for v in st.query_params.get_all(k)])
    return path + (f"?{query}" if query else "")


def require(roles: Iterable[str] = (), groups: Iterable[str] = (), check: Callable[[User], bool] | None = None) -> User:
    """Stop the script unless the user may go on; returns the user when they may.

    A visitor is sent to sign in (and back to this page); a signed-in user without one of
    ``roles`` / ``groups``, or failing ``check(user)``, sees a 403 view.
    """
    user = current_user()
    enforce(decide(user, roles=roles, groups=groups, check=check), rule="sa.require", roles=roles)
    return user


def enforce(decision: Decision, *, page: str | None = None, rule: str | None = None,
            roles: Iterable[str] = ()) -> None:
    """Act on a guard's decision: a visitor goes to sign in, a user without access sees
    the 403 view; either way the script stops. ALLOW does nothing.

    A refusal is a ``page_denied`` audit event naming ``page``, the ``rule`` and ``roles``
    that refused it (by default the current page and its ``[auth.access]`` rule)."""
    if decision is not Decision.ALLOW:
        _audit_denial(decision, page, rule, tuple(roles))
    if decision is Decision.SIGN_IN:
        login()
        internals.stop_script()
    elif decision is Decision.FORBID:
        forbidden_view()
        internals.stop_script()


def _audit_denial(decision: Decision, page: str | None, rule: str | None, roles: tuple[str, ...]) -> None:
    """``page_denied``, with the page run's client as its websocket connection told it."""
    context = st.context
    url_path = urlsplit(context.url or "").path or None
    if page is None:
        page = strip_base(url_path or "/").strip("/")
    if rule is None:
        found = access.RULES.rule_for([page])
        rule, roles = ("access", found) if found else ("require_login", ())
    # Streamlit reports a loopback client (127.0.0.1 or ::1) as no address at all.
    facts = RequestFacts(client_ip=context.ip_address or "127.0.0.1", path=url_path,
                         user_agent=context.headers.get("User-Agent"))
    audit("page_denied", user_id=current_user().id or None, request=facts, page=page, decision=decision.value,
          rule=rule, roles=roles)


def forbidden_view(message: str = "You do not have access to this page.") -> None:
    """The 403 view a guard shows."""
    st.error(f"**403 Forbidden.** {message}", icon=":material/block:")
    user = current_user()
    if user.is_logged_in:
        st.caption(f"Signed in as {user.email or user.name or user.id}.")


def avatar(size: int = 48) -> None:
    """Show the user's picture (or their generated initials avatar)."""
    user = current_user()
    if user.picture:
        st.image(user.picture, width=size)
