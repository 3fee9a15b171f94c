"""Sign-in flows, framework-neutral: what the login, callback, logout and userinfo
endpoints and the websocket do, minus HTTP. Sessions themselves are ``core.sessions``.

Blocking calls (the identity provider, the session store, argon2) happen here; the
server layer runs these methods off the event loop.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .audit import audit
from .config import ProviderConfig, ServerConfig
from .session_records import Session, credential_fingerprint
from .sessions import TOUCH_INTERVAL, CookieOut, ResolvedSession, SessionService
from .store import SessionStore, make_store
from .hooks import LoginRefused, run_login_hooks
from .identity import User, user_id
from .oidc.client import LoginRequest, OIDCClient, SignIn
from .oidc.errors import ProviderUnavailable, SignInError, StateMismatch, TokenRejected
from .oidc.github import GitHubClient
from .accounts.passwords import check_new_password
from .accounts.second_factor import second_factor_required
from .accounts.link_service import LinkService
from .firebase.config import FirebaseConfig
from .firebase.keys import FirebaseKeys
from .firebase.tokens import verify_firebase_token
from .saml.client import SamlClient
from .saml.errors import UnsolicitedResponse
from .saml.login import SamlLoginRequest, relay_state_ok
from .session_cookie import LOGIN_COOKIE, SESSION_COOKIE, Sealer, chunk_names, cookie_name
from .sources.ldap import LdapSource, LdapUnavailable
from .sources.local import LocalAccount, UsersFile, UsersFileError, hash_password, verify
from .throttle import Throttle

__all__ = ["CompletedLogin", "CookieOut", "LocalFirstFactor", "ResolvedSession", "SignInService", "TOUCH_INTERVAL", "login_cookie_name"]

LOGGER = logging.getLogger("stauth_server.signin")

LOGIN_TTL = 600
#: Sign-ins in flight one browser may hold, a login cookie each (tabs signing in at once).
#: Starting one more clears the oldest: abandoned sign-ins cannot grow the Cookie header
#: until the server drops the browser's every request (a cookie bomb).
MAX_LOGINS_IN_FLIGHT = 5
#: Refresh access tokens this long before they expire.
REFRESH_MARGIN = 60
#: Proxy identities whose ``on_login`` hooks ran, remembered at most this many at once.
PROXY_HOOK_CACHE = 10_000


@dataclass(frozen=True)
class CompletedLogin:
    record: Session
    user: User
    cookies: list[CookieOut]
    next_path: str


@dataclass(frozen=True)
class LocalFirstFactor:
    """A local account's password was right; its second step (if any) is the caller's.
    ``credential``: the fingerprint of the password hash it was checked against."""

    username: str
    next_path: str
    credential: str | None = None


class TooManyAttempts(SignInError):
    """Password attempts are being throttled."""

    status = 429


class WrongPassword(SignInError):
    """The current password given to change it is wrong."""

    status = 401


class SourceUnavailable(SignInError):
    """The directory or users file cannot be read right now: not a wrong password."""

    status = 503


def _failure_reason(exc: SignInError) -> str:
    """An audit reason for a provider sign-in that failed."""
    if isinstance(exc, StateMismatch):
        return "state_mismatch"
    if isinstance(exc, ProviderUnavailable):
        return "provider_unavailable"
    if isinstance(exc, TokenRejected):
        return "token_rejected"
    return "provider_error"


def login_cookie_name(state: str) -> str:
    """One login cookie per sign-in in flight, so two tabs can sign in at once."""
    return f"{LOGIN_COOKIE}_{hashlib.sha256(state.encode()).hexdigest()[:16]}"


class SignInService:
    """Everything about signing in and sessions that is not HTTP."""

    def __init__(self, config: ServerConfig, store: SessionStore | None = None,
                 clients: Mapping[str, OIDCClient] | None = None):
        self.config = config
        self.store = store if store is not None else make_store(config.store_url or "memory://")
        self._logins = Sealer(config.cookie_secrets, "login")
        self.users = UsersFile(config.users_file) if config.users_file is not None else None
        self.sessions = SessionService(config, self.store, self.users)
        self.ldap = LdapSource(config.ldap) if config.ldap is not None else None
        self.throttle = Throttle()
        #: Invitation and password-reset links (``core.accounts.link_service``), with local accounts.
        self.links = LinkService(self.users, redirect_uri=config.redirect_uri, smtp=config.smtp,
                                 app_title=config.login_branding.title,
                                 min_password_length=config.min_password_length) if self.users is not None else None
        self._proxy_hooks: OrderedDict[str, tuple[float, dict[str, Any], list[str], str | None]] = OrderedDict()
        self._proxy_lock = threading.Lock()
        self._proxy_run_lock = threading.Lock()
        #: A custom login page (``[auth] login_template``), read once at start-up.
        self.login_template = config.login_template.read_text(encoding="utf-8") if config.login_template else None
        self.clients: dict[str, OIDCClient | GitHubClient] = dict(clients) if clients is not None else {
            name: (GitHubClient if provider.kind == "github" else OIDCClient)(provider, str(config.redirect_uri))
            for name, provider in config.providers.items()
        }
        #: Firebase projects, each with the keys its ID tokens are checked with.
        self.firebase: dict[str, tuple[FirebaseConfig, FirebaseKeys]] = {
            name: (firebase, FirebaseKeys(firebase.keys_url)) for name, firebase in config.firebase.items()
        }
        #: SAML 2.0 identity providers (``protocol = "saml"``), this app as their Service Provider.
        self.saml: dict[str, SamlClient] = {name: SamlClient(provider) for name, provider in config.saml.items()}

    @property
    def providers(self) -> Mapping[str, ProviderConfig]:
        return self.config.providers

    # --- login ------------------------------------------------------------------------

    def stale_login_cookies(self, cookies: Mapping[str, str]) -> list[str]:
        """The login cookies to clear as a new sign-in starts, so that at most
        ``MAX_LOGINS_IN_FLIGHT`` remain: unreadable or expired ones first, then the oldest."""
        names = [name for name in cookies if name.startswith(LOGIN_COOKIE + "_")]
        keep = MAX_LOGINS_IN_FLIGHT - 1
        if len(names) <= keep:
            return []
        dated = []
        for name in names:
            data = self._logins.open(cookies[name], max_age_seconds=LOGIN_TTL)
            created = data.get("created") if isinstance(data, dict) else None
            dated.append((float(created) if isinstance(created, (int, float)) else float("-inf"), name))
        dated.sort()
        return [name for _, name in dated[:len(dated) - keep]]

    def begin_login_blocks(self, provider: str) -> bool:
        """Whether ``begin_login`` would wait on the provider (discovery not in memory)."""
        return self._client(provider).authorization_url_blocks()

    def begin_login(self, provider: str, next_path: str) -> tuple[str, CookieOut]:
        """The provider's authorization URL and the login cookie to set (blocks: discovery)."""
        client = self._client(provider)
        login = LoginRequest.new(provider, next_path)
        url = client.authorization_url(login)
        cookie = CookieOut(login_cookie_name(login.state), self._logins.seal(login.to_dict()), LOGIN_TTL)
        return url, cookie

    def complete_login(self, params: Mapping[str, str], cookies: Mapping[str, str], browser: str | None,
                       *, secure: bool, path: str) -> CompletedLogin:
        """Finish a sign-in from the callback's query (blocks: token, JWKS, userinfo)."""
        state = params.get("state") or ""
        login = LoginRequest.from_dict(
            self._logins.open(cookies.get(login_cookie_name(state)), max_age_seconds=LOGIN_TTL) or {}
        ) if state else None
        if login is None:
            audit("sign_in_failed", provider=None, reason="state_mismatch")
            raise StateMismatch("no login in flight for this state",
                                "This sign-in link has expired or does not belong to this browser.")
        if not self.store.claim_once("state:" + hashlib.sha256(state.encode()).hexdigest(), LOGIN_TTL):
            audit("sign_in_failed", provider=login.provider, reason="replayed")
            raise StateMismatch("callback replayed", "This sign-in link was already used.")
        try:
            signin = self._client(login.provider).finish(params, login)
        except SignInError as exc:
            audit("sign_in_failed", provider=login.provider, reason=_failure_reason(exc),
                  error=params.get("error"), detail=str(exc))
            raise
        return self._start_session(signin, login.provider, login.next_path, cookies, browser, secure, path)

    def firebase_login(self, name: str, id_token: object, next_path: str, cookies: Mapping[str, str],
                       browser: str | None, *, secure: bool, path: str) -> CompletedLogin:
        """Start our session from a Firebase ID token the browser got from Firebase's SDK
        (blocks: the keys may be fetched). ``TokenRejected`` when the token does not verify."""
        entry = self.firebase.get(name)
        if entry is None:
            raise SignInError(f"unknown Firebase provider {name[:64]!r}", "This sign-in option does not exist.")
        firebase, keys = entry
        try:
            signin = verify_firebase_token(id_token, firebase, keys)
        except SignInError as exc:
            audit("sign_in_failed", provider=name, reason=_failure_reason(exc), detail=str(exc))
            raise
        return self._start_session(signin, name, next_path, cookies, browser, secure, path)

    # --- SAML 2.0 -------------------------------------------------------------------------

    def saml_client(self, name: str) -> SamlClient:
        client = self.saml.get(name)
        if client is None:
            raise SignInError(f"unknown SAML provider {name[:64]!r}", "This sign-in option does not exist.")
        return client

    def begin_saml_login(self, name: str, next_path: str) -> tuple[str, CookieOut]:
        """The IdP URL carrying our AuthnRequest and the login cookie holding its ID (blocks
        when the IdP metadata must be fetched: ``saml_client(name).login_redirect_blocks()``)."""
        client = self.saml_client(name)
        state = SamlLoginRequest.new_state()
        url, request_id = client.login_redirect(state)
        login = SamlLoginRequest.new(name, state, request_id, next_path)
        return url, CookieOut(login_cookie_name(state), self._logins.seal(login.to_dict()), LOGIN_TTL)

    def complete_saml_login(self, name: str, saml_response: object, relay_state: object, cookies: Mapping[str, str],
                            browser: str | None, *, secure: bool, path: str) -> CompletedLogin:
        """Finish a sign-in from the Response posted to the ACS (blocks: ``xmlsec1``).

        The RelayState names this browser's login cookie, which holds the AuthnRequest's
        ID the Response must answer; each request ID and assertion ID counts once.
        Without a login in flight the response is IdP-initiated: refused unless the
        provider has ``allow_idp_initiated``.
        """
        client = self.saml_client(name)
        login = None
        if relay_state_ok(relay_state):
            login = SamlLoginRequest.from_dict(
                self._logins.open(cookies.get(login_cookie_name(str(relay_state))), max_age_seconds=LOGIN_TTL) or {})
            if login is not None and (login.provider != name
                                      or not secrets.compare_digest(login.state, str(relay_state))):
                login = None
        if login is None and not client.provider.allow_idp_initiated:
            audit("sign_in_failed", provider=name, reason="state_mismatch")
            raise UnsolicitedResponse("SAML response without this browser's sign-in in flight")
        try:
            signin = client.finish(saml_response if isinstance(saml_response, str) else "",
                                   str(relay_state) if login is not None else None,
                                   login.request_id if login is not None else None)
        except SignInError as exc:
            audit("sign_in_failed", provider=name, reason=_failure_reason(exc), detail=str(exc))
            raise
        lifetime = int(max(LOGIN_TTL, (getattr(signin, "not_on_or_after", None) or 0) - time.time() + 120))
        keys = (["saml:" + login.request_id] if login is not None else []) + ["saml-assertion:" + signin.assertion_id]
        if not all([self.store.claim_once(key, lifetime) for key in keys]):
            audit("sign_in_failed", provider=name, reason="replayed")
            raise StateMismatch("SAML response replayed", "This sign-in response was already used.")
        return self._start_session(signin, name, login.next_path if login is not None else "/", cookies, browser,
                                   secure, path)

    def begin_saml_logout(self, record: Session | None, relay_state: str) -> tuple[str, CookieOut] | None:
        """SP-initiated Single Logout for a SAML session: the IdP URL carrying our
        LogoutRequest and a cookie remembering its ID; None when the IdP offers no
        HTTP-Redirect SLO (or the session is not a SAML one). Blocks (metadata)."""
        if record is None or record.provider not in self.saml:
            return None
        found = self.saml[record.provider].logout_redirect(record.tokens.get("saml_logout"), relay_state)
        if found is None:
            return None
        url, request_id = found
        pending = {"kind": "saml_logout", "provider": record.provider, "request_id": request_id,
                   "created": time.time()}
        return url, CookieOut(login_cookie_name(relay_state), self._logins.seal(pending), LOGIN_TTL)

    def finish_saml_logout(self, name: str, query: str, relay_state: str | None, cookies: Mapping[str, str]) -> bool:
        """Whether the IdP's LogoutResponse (the SLO URL's query) answers this browser's
        LogoutRequest with success. Informational: our session ended before. Blocks."""
        client = self.saml.get(name)
        if client is None or not relay_state_ok(relay_state):
            return False
        pending = self._logins.open(cookies.get(login_cookie_name(str(relay_state))), max_age_seconds=LOGIN_TTL)
        if not isinstance(pending, dict) or pending.get("kind") != "saml_logout" or pending.get("provider") != name:
            return False
        request_id = pending.get("request_id")
        return isinstance(request_id, str) and client.logout_response_ok(query, request_id)

    @property
    def password_sources(self) -> list[str]:
        """The password sources configured, in the order the login form offers them."""
        return [name for name, on in (("local", self.users is not None), ("ldap", self.ldap is not None)) if on]

    def password_login(self, username: str, password: str, client_ip: str | None, next_path: str,
                       cookies: Mapping[str, str], browser: str | None, *, secure: bool, path: str,
                       source: str | None = None, second_step: bool = False) -> CompletedLogin | LocalFirstFactor:
        """Sign in with a password (blocks): one form for every password source, tried in
        order (local accounts, then LDAP) with one answer. A local refusal, unknown user or
        wrong password alike, goes on to LDAP. ``source`` picks one source, and counts only
        with ``[auth] password_source_chooser``. Throttled per account (whatever the source)
        and per address, one attempt per call.

        With ``second_step`` a right local password answers ``LocalFirstFactor``: the caller
        goes on to the second factor (``web.endpoints.second_factor.after_first_factor``).
        Without it, a local account that has or needs a second factor is refused."""
        sources = self._sources_to_try(source)
        label = "+".join(sources) or (source or "")[:32]
        if not sources:
            audit("sign_in_failed", provider=label, reason="unknown_source", username=username)
            raise SignInError(f"password source {label!r} not configured", "Password sign-in is not available.")
        keys = [f"user:{username.lower()}", f"ip:{client_ip}"]
        # Counted as a failure before any password work, so parallel guesses cannot all
        # slip past the check; a success clears it.
        wait = self.throttle.attempt(keys)
        if wait > 0:
            audit("throttled", provider=label, username=username, retry_after=int(wait) + 1)
            raise TooManyAttempts(f"throttled {keys}", f"Too many attempts. Try again in {int(wait) + 1} seconds.")
        checked: list[str] = []
        unavailable: SourceUnavailable | None = None
        for name in sources:
            try:
                found = self._check_password(name, username, password)
            except SourceUnavailable as exc:
                unavailable = unavailable or exc
                continue
            if found is not None:
                self.throttle.success(keys)
                signin, credential = found
                if name == "local" and second_step:
                    return LocalFirstFactor(signin.subject, next_path, credential)
                if name == "local" and self.second_factor_needed(signin.subject) is not None:
                    raise SignInError(f"{signin.subject[:64]!r} needs its second factor",
                                      "This account signs in with a second factor.")
                return self._start_session(signin, name, next_path, cookies, browser, secure, path, credential)
            checked.append(name)
        if unavailable is not None:
            if not checked:
                self.throttle.refund(keys)  # nothing was checked: not a guess
            audit("sign_in_failed", provider=label, reason="source_unavailable", username=username)
            raise unavailable
        reason, known = self._refusal(checked[0], username)
        audit("sign_in_failed", user_id=known, provider=label, reason=reason, username=username)
        raise SignInError(f"{label} sign-in refused for {username[:64]!r}", "Wrong username or password.")

    def change_password(self, username: str, current: str, new: str, client_ip: str | None,
                        cookies: Mapping[str, str], browser: str | None, *, secure: bool, path: str) -> CompletedLogin:
        """A local user changes their own password (blocks: argon2id). The current password
        is required (throttled like a sign-in); the new one must pass the password policy.
        Every session of the account ends with the old password; this browser gets a new one.
        ``SignInError`` (status 400/401/429) says why not."""
        if self.users is None:
            raise SignInError("local accounts are not configured", "Your account is not managed here.")
        keys = [f"user:{username.lower()}", f"ip:{client_ip}"]
        wait = self.throttle.attempt(keys)
        if wait > 0:
            audit("throttled", provider="local", username=username, retry_after=int(wait) + 1)
            raise TooManyAttempts(f"throttled {keys}", f"Too many attempts. Try again in {int(wait) + 1} seconds.")
        try:
            account = verify(self.users, username, current)
        except UsersFileError as exc:
            raise SourceUnavailable(str(exc), "Your account cannot be changed right now. Try again later.") from None
        if account is None:
            audit("password_change_failed", user_id=user_id("local", username), reason="bad_password")
            raise WrongPassword(f"password change for {username[:64]!r}: wrong current password",
                                "The current password is wrong.")
        self.throttle.success(keys)
        reason = check_new_password(new, min_length=self.config.min_password_length, username=account.username,
                                    email=account.email)
        if reason is not None or new == current:
            raise SignInError("new password refused", reason or "Choose a password other than the current one.")
        new_hash = hash_password(new)

        def replace(accounts: dict[str, LocalAccount]) -> LocalAccount:
            stored = accounts.get(account.username)
            if stored is None or stored.password_hash != account.password_hash:
                raise SignInError("account changed meanwhile", "Your account changed meanwhile. Try again.")
            accounts[account.username] = updated = dataclasses.replace(stored, password_hash=new_hash,
                                                                        one_time_tokens=())
            return updated

        updated = self.users.update(replace)
        audit("password_changed", user_id=user_id("local", updated.username), provider="local")
        signin = SignIn(issuer="local", subject=updated.username, claims=updated.claims())
        return self._start_session(signin, "local", "/auth/account", cookies, browser, secure, path,
                                   credential_fingerprint(updated.password_hash))

    def second_factor_needed(self, username: str) -> str | None:
        """What local account ``username`` needs after its first factor (blocks: the users
        file): ``"code"`` (it has a second factor), ``"enrol"`` (``[auth.local]
        require_second_factor`` applies to it or its roles, users file and ``[auth.roles]``),
        or None."""
        if self.users is None:
            return None
        try:
            account = self.users.accounts().get(username)
        except UsersFileError as exc:
            raise SourceUnavailable(str(exc), "Password sign-in is unavailable right now. Try again later.") from None
        if account is None:
            return None
        if account.has_second_factor:
            return "code"
        rule = self.config.require_second_factor
        if not rule:
            return None
        roles = self.sessions.user_for(account.claims(), "local", account.username, "local", None,
                                       account.roles).roles
        return "enrol" if second_factor_required(rule, roles) else None

    def local_session(self, username: str, next_path: str, cookies: Mapping[str, str], browser: str | None, *,
                      secure: bool, path: str) -> CompletedLogin:
        """Start a session for local account ``username`` whose factors were all checked by
        the caller (blocks: the users file, the store). ``SignInError`` when the account is
        gone or disabled meanwhile."""
        if self.users is None:
            raise SignInError("local accounts are not configured", "Password sign-in is not available.")
        try:
            account = self.users.accounts().get(username)
        except UsersFileError as exc:
            raise SourceUnavailable(str(exc), "Password sign-in is unavailable right now. Try again later.") from None
        if account is None or account.disabled:
            raise SignInError(f"local account {username[:64]!r} gone or disabled", "This account cannot sign in.")
        signin = SignIn(issuer="local", subject=account.username, claims=account.claims())
        return self._start_session(signin, "local", next_path, cookies, browser, secure, path,
                                   credential_fingerprint(account.password_hash))

    def _sources_to_try(self, source: str | None) -> list[str]:
        """Every configured password source in order, or the one the form's chooser named."""
        if source and self.config.password_source_chooser:
            return [source] if source in self.password_sources else []
        return self.password_sources

    def _refusal(self, source: str, username: str) -> tuple[str, str | None]:
        """Why a password sign-in was refused, for the audit trail only (never the user),
        and the account's user id when there is one."""
        if source != "local" or self.users is None:
            return "bad_credentials", None
        try:
            account = self.users.accounts().get(username)
        except UsersFileError:
            return "bad_password", None
        if account is None:
            return "unknown_user", None
        return ("disabled" if account.disabled else "bad_password"), user_id("local", account.username)

    def _check_password(self, source: str, username: str, password: str) -> tuple[SignIn, str | None] | None:
        """The sign-in and, for a local account, its credential fingerprint; None when wrong."""
        if source == "local":
            try:
                account = verify(self.users, username, password)  # type: ignore[arg-type]
            except UsersFileError as exc:
                raise SourceUnavailable(str(exc), "Password sign-in is unavailable right now. Try again later.") from None
            if account is None:
                return None
            signin = SignIn(issuer="local", subject=account.username, claims=account.claims())
            return signin, credential_fingerprint(account.password_hash)
        try:
            claims = self.ldap.authenticate(username, password)  # type: ignore[union-attr]
        except LdapUnavailable as exc:
            raise SourceUnavailable(str(exc), "The directory cannot be reached right now. Try again later.") from None
        if claims is None:
            return None
        return SignIn(issuer=f"ldap:{self.config.ldap.server_uri}", subject=claims["sub"], claims=claims), None  # type: ignore[union-attr]

    def _start_session(self, signin: SignIn, provider: str, next_path: str, cookies: Mapping[str, str],
                       browser: str | None, secure: bool, path: str, credential: str | None = None) -> CompletedLogin:
        """Run the ``on_login`` hooks, store a new session, and replace the browser's old one."""
        sessions = self.sessions
        expires_at = time.time() + self.config.default_ttl
        source_roles = self._account_roles(provider, signin)
        user = sessions.user_for(signin.claims, signin.issuer, signin.subject, provider, expires_at, source_roles)
        try:
            extra_claims, granted = run_login_hooks(user, provider)
        except LoginRefused as refused:
            audit("sign_in_failed", user_id=user.id, provider=provider, reason="refused_by_hook")
            raise SignInError(f"an on_login hook refused {user.id}", refused.message) from None
        session = sessions.create(issuer=signin.issuer, subject=signin.subject, provider=provider,
                                  claims={**signin.claims, **extra_claims}, granted_roles=granted,
                                  tokens=signin.tokens, browser=browser, credential=credential)
        out = sessions.cookies_for(session, cookies, secure=secure, path=path)  # a ticket: one small cookie
        old = sessions.resolve(cookies, secure=secure, path=path, touch=False)
        sessions.end(old.record)  # a new session at every sign-in: no fixation
        audit("sign_in", user_id=user.id, provider=provider)
        return CompletedLogin(session, sessions.user_of(session), out, next_path)

    def _account_roles(self, provider: str, signin: SignIn) -> tuple[str, ...]:
        """A local account's own roles (read from the users file at each use thereafter)."""
        if provider != "local" or self.users is None:
            return ()
        account = self.users.accounts().get(signin.subject)
        return account.roles if account is not None else ()

    # --- sessions ---------------------------------------------------------------------

    def resolve(self, cookies: Mapping[str, str], *, secure: bool = False, path: str = "/",
                touch: bool = True) -> ResolvedSession:
        """The user behind a request's session cookie (blocks; see ``SessionService.resolve``)."""
        return self.sessions.resolve(cookies, secure=secure, path=path, touch=touch)

    def needs_lookup(self, cookies: Mapping[str, str], peer: str | None, *, secure: bool = False,
                     path: str = "/") -> bool:
        """Whether ``identify`` has anything to look at: our session cookie, or a peer that
        ``[auth.proxy]`` trusts. Without either the caller is a visitor, known without
        touching the store (so without leaving the event loop)."""
        proxy = self.config.proxy
        if proxy is not None and proxy.trusts(peer):
            return True
        return bool(chunk_names(cookie_name(SESSION_COOKIE, secure=secure, path=path), cookies))

    def identify(self, cookies: Mapping[str, str], headers: Mapping[str, str], peer: str | None,
                 *, secure: bool = False, path: str = "/", touch: bool = True) -> ResolvedSession:
        """Who made a request: a trusted proxy's assertion first, else the session cookie."""
        proxy = self.config.proxy
        if proxy is not None and proxy.trusts(peer):
            claims = proxy.claims_from(headers)
            if claims is not None:
                return self._proxy_identity(claims)
        return self.resolve(cookies, secure=secure, path=path, touch=touch)

    def _proxy_identity(self, claims: dict[str, Any]) -> ResolvedSession:
        """A proxy's user, with the ``on_login`` hooks run once per identity per session
        lifetime (``default_ttl``): a hook that refuses someone refuses them here too."""
        fingerprint = hashlib.sha256(json.dumps(claims, sort_keys=True).encode("utf-8")).hexdigest()
        cached = self._cached_proxy_hooks(fingerprint)
        if cached is None:
            with self._proxy_run_lock:  # parallel first requests run the hooks once
                cached = self._cached_proxy_hooks(fingerprint)
                if cached is None:
                    cached = self._run_proxy_hooks(fingerprint, claims)
        _, extra, granted, refused_message = cached
        if refused_message is not None:
            return ResolvedSession(refused=refused_message)
        user = self.sessions.user_for({**claims, **extra}, "proxy", claims["sub"], "proxy", None, granted)
        return ResolvedSession(user=user)

    def _cached_proxy_hooks(self, fingerprint: str) -> tuple[float, dict[str, Any], list[str], str | None] | None:
        with self._proxy_lock:
            cached = self._proxy_hooks.get(fingerprint)
            if cached is None or cached[0] <= time.time():
                return None
            self._proxy_hooks.move_to_end(fingerprint)
            return cached

    def _run_proxy_hooks(self, fingerprint: str, claims: dict[str, Any]) -> tuple[float, dict[str, Any], list[str], str | None]:
        until = time.time() + self.config.default_ttl
        user = self.sessions.user_for(claims, "proxy", claims["sub"], "proxy", None, ())
        try:
            extra, granted = run_login_hooks(user, "proxy")
            result = (until, extra, granted, None)
        except LoginRefused as refused:
            LOGGER.info("an on_login hook refused proxy user %s", user.id)
            result = (until, {}, [], refused.message)
        with self._proxy_lock:
            self._proxy_hooks[fingerprint] = result
            while len(self._proxy_hooks) > PROXY_HOOK_CACHE:
                self._proxy_hooks.popitem(last=False)
        return result

    def user_for(self, claims: Mapping[str, Any], issuer: str, subject: str, provider: str,
                 expires_at: float | None, granted: Iterable[str]) -> User:
        """The User for these claims: the provider's groups claim, ``[auth.roles]``."""
        return self.sessions.user_for(claims, issuer, subject, provider, expires_at, granted)

    def end_session(self, record: Session | None) -> None:
        """Revoke a session on the server: its cookie stops working everywhere."""
        self.sessions.end(record)

    def logout_url(self, record: Session | None, post_logout_redirect_uri: str) -> str | None:
        """Where to send the browser for RP-initiated logout, if the provider supports it."""
        if record is None or record.provider not in self.clients:
            return None
        return self.clients[record.provider].end_session_url(
            record.tokens.get("id_token"), post_logout_redirect_uri, secrets.token_urlsafe(16)
        )

    def refresh_if_due(self, record: Session) -> Session | None:
        """Refresh tokens that expire soon (blocks). None when the session has ended.

        The refreshed tokens are written with compare-and-set: a logout or revocation
        during the provider call wins, and the session is not brought back.
        """
        expires = record.tokens.get("expires_at")
        if not isinstance(expires, (int, float)) or expires - time.time() > REFRESH_MARGIN:
            return record
        if not record.tokens.get("refresh_token") or record.provider not in self.clients:
            return record
        try:
            tokens = self.clients[record.provider].refresh(record.tokens, record.data.subject)
        except ProviderUnavailable as exc:
            LOGGER.warning("refresh failed, will retry: %s", exc)  # an outage does not end sessions
            audit("refresh_failed", user_id=user_id(record.data.issuer, record.data.subject),
                  provider=record.provider, reason="provider_unavailable", session_ended=False, detail=str(exc))
            return record
        except SignInError as exc:
            LOGGER.info("refresh refused, ending session: %s", exc)
            audit("refresh_failed", user_id=user_id(record.data.issuer, record.data.subject),
                  provider=record.provider, reason="refused", session_ended=True, detail=str(exc))
            self.sessions.end(record)
            return None
        if not self.sessions.save_tokens(record, tokens):
            LOGGER.info("session ended during a token refresh; not reviving it")
            return None
        return record

    def _client(self, provider: str) -> OIDCClient | GitHubClient:
        client = self.clients.get(provider)
        if client is None:
            raise SignInError(f"unknown provider {provider!r}", "This sign-in option does not exist.")
        return client
