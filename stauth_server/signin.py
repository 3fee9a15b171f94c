"""Sign-in and sessions, framework-neutral: what the login, callback, logout and
userinfo endpoints and the websocket do, minus HTTP.

Blocking calls (the identity provider, Redis) happen here; the server layer runs the
methods that call the provider from a thread pool.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .config import ProviderConfig, ServerConfig
from .hooks import LoginRefused, run_login_hooks
from .identity import ANONYMOUS, User, user_from_claims
from .roles import DEFAULT_GROUP_CLAIMS
from .oidc.client import LoginRequest, OIDCClient, SignIn
from .oidc.errors import ProviderUnavailable, SignInError, StateMismatch
from .oidc.github import GitHubClient
from .session import LOGIN_COOKIE, CookieTooLarge, SESSION_COOKIE, Sealer, candidate_names, chunk_names, cookie_name, join_value, split_value
from .sources.ldap import LdapSource, LdapUnavailable
from .sources.local import UsersFile, UsersFileError, verify
from .throttle import Throttle
from .session_store import SessionRecord, SessionStore, make_store

LOGGER = logging.getLogger("stauth_server.signin")

LOGIN_TTL = 600
#: Refresh access tokens this long before they expire.
REFRESH_MARGIN = 60
#: Write last_seen to the store at most this often per session.
TOUCH_INTERVAL = 30


@dataclass(frozen=True)
class CookieOut:
    """A cookie to set (``value``) or clear (``value is None``), with our attributes."""

    name: str
    value: str | None
    max_age: int | None = None


@dataclass
class ResolvedSession:
    """What a request's cookies say: the user, their session record, cookies to clear."""

    user: User = ANONYMOUS
    record: SessionRecord | None = None
    clear: list[CookieOut] = field(default_factory=list)


@dataclass(frozen=True)
class CompletedLogin:
    record: SessionRecord
    user: User
    cookies: list[CookieOut]
    next_path: str


class TooManyAttempts(SignInError):
    """Password attempts are being throttled."""

    status = 429


def login_cookie_name(state: str) -> str:
    """One login cookie per sign-in in flight, so two tabs can sign in at once."""
    return f"{LOGIN_COOKIE}_{hashlib.sha256(state.encode()).hexdigest()[:16]}"


class SignInService:
    """Everything about signing in and sessions that is not HTTP."""

    def __init__(self, config: ServerConfig, store: SessionStore | None = None,
                 clients: Mapping[str, OIDCClient] | None = None):
        self.config = config
        self.store = store or make_store(config.store_url)
        self._sessions = Sealer(config.cookie_secrets, "session")
        self._logins = Sealer(config.cookie_secrets, "login")
        self.users = UsersFile(config.users_file) if config.users_file is not None else None
        self.ldap = LdapSource(config.ldap) if config.ldap is not None else None
        self.throttle = Throttle()
        #: A custom login page (``[auth] login_template``), read once at start-up.
        self.login_template = config.login_template.read_text(encoding="utf-8") if config.login_template else None
        self.clients: dict[str, OIDCClient | GitHubClient] = dict(clients) if clients is not None else {
            name: (GitHubClient if provider.kind == "github" else OIDCClient)(provider, str(config.redirect_uri))
            for name, provider in config.providers.items()
        }

    @property
    def providers(self) -> Mapping[str, ProviderConfig]:
        return self.config.providers

    # --- login ------------------------------------------------------------------------

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
            raise StateMismatch("no login in flight for this state",
                                "This sign-in link has expired or does not belong to this browser.")
        if not self.store.claim_once("state:" + hashlib.sha256(state.encode()).hexdigest(), LOGIN_TTL):
            raise StateMismatch("callback replayed", "This sign-in link was already used.")
        signin = self._client(login.provider).finish(params, login)
        return self._start_session(signin, login.provider, login.next_path, cookies, browser, secure, path)

    @property
    def password_sources(self) -> list[str]:
        """The password sources configured, in the order the login form offers them."""
        return [name for name, on in (("local", self.users is not None), ("ldap", self.ldap is not None)) if on]

    def password_login(self, username: str, password: str, client_ip: str | None, next_path: str,
                       cookies: Mapping[str, str], browser: str | None, *, secure: bool, path: str,
                       source: str | None = None) -> CompletedLogin:
        """Sign in with a local account or LDAP (blocks). Throttled per account and address."""
        source = source or next(iter(self.password_sources), "")
        if source not in self.password_sources:
            raise SignInError(f"password source {source[:32]!r} not configured", "Password sign-in is not available.")
        keys = [f"user:{source}:{username.lower()}", f"ip:{client_ip}"]
        wait = self.throttle.wait_seconds(keys)
        if wait > 0:
            raise TooManyAttempts(f"throttled {keys}", f"Too many attempts. Try again in {int(wait) + 1} seconds.")
        found = self._check_password(source, username, password)
        if found is None:
            self.throttle.failure(keys)
            raise SignInError(f"{source} sign-in refused for {username[:64]!r}", "Wrong username or password.")
        self.throttle.success(keys)
        signin, roles = found
        return self._start_session(signin, source, next_path, cookies, browser, secure, path, roles)

    def _check_password(self, source: str, username: str, password: str) -> tuple[SignIn, tuple[str, ...]] | None:
        if source == "local":
            try:
                account = verify(self.users, username, password)  # type: ignore[arg-type]
            except UsersFileError as exc:
                raise SignInError(str(exc), "Password sign-in is unavailable right now. Try again later.") from None
            if account is None:
                return None
            return SignIn(issuer="local", subject=account.username, claims=account.claims()), account.roles
        try:
            claims = self.ldap.authenticate(username, password)  # type: ignore[union-attr]
        except LdapUnavailable as exc:
            raise SignInError(str(exc), "The directory cannot be reached right now. Try again later.") from None
        if claims is None:
            return None
        return SignIn(issuer=f"ldap:{self.config.ldap.server_uri}", subject=claims["sub"], claims=claims), ()  # type: ignore[union-attr]

    def _start_session(self, signin: SignIn, provider: str, next_path: str, cookies: Mapping[str, str],
                       browser: str | None, secure: bool, path: str, source_roles: Iterable[str] = ()) -> CompletedLogin:
        now = time.time()
        expires_at = now + self.config.default_ttl
        record = SessionRecord(
            sid=secrets.token_urlsafe(32), user_id="", provider=provider, created=now,
            expires_at=expires_at, last_seen=now, tokens=signin.tokens, browser=browser,
        )
        user = self.user_for(signin.claims, signin.issuer, signin.subject, provider, expires_at, source_roles)
        try:
            extra_claims, granted = run_login_hooks(user, provider)
        except LoginRefused as refused:
            raise SignInError(f"an on_login hook refused {user.id}", refused.message) from None
        claims = {**signin.claims, **extra_claims}
        granted = [*source_roles, *granted]
        user = self.user_for(claims, signin.issuer, signin.subject, provider, expires_at, granted)
        record.user_id = user.id
        payload = {"sid": record.sid, "iss": signin.issuer, "sub": signin.subject, "provider": provider,
                   "claims": claims, "roles": granted, "iat": int(now), "exp": int(expires_at)}
        try:
            out = self.session_cookies(payload, cookies, secure=secure, path=path)
        except CookieTooLarge as exc:
            raise SignInError(str(exc), "Your account has too much profile data to keep in a session. "
                                        "Ask the app's owner to request fewer claims.") from None
        old = self.resolve(cookies, touch=False)
        if old.record is not None:
            self.store.delete(old.record.sid)  # a new session at every sign-in: no fixation
        self.store.save(record)
        return CompletedLogin(record, user, out, next_path)

    def session_cookies(self, payload: Mapping[str, Any], sent: Mapping[str, str], *,
                        secure: bool = False, path: str = "/") -> list[CookieOut]:
        """Cookies that carry ``payload`` (chunked when large), clearing leftovers."""
        name = cookie_name(SESSION_COOKIE, secure=secure, path=path)
        max_age = max(1, int(payload["exp"] - time.time()))
        values = split_value(name, self._sessions.seal(payload))
        out = [CookieOut(n, v, max_age) for n, v in values.items()]
        for candidate in candidate_names(SESSION_COOKIE):
            out += [CookieOut(n, None) for n in chunk_names(candidate, sent) if n not in values]
        return out

    # --- sessions ---------------------------------------------------------------------

    def resolve(self, cookies: Mapping[str, str], *, touch: bool = True) -> ResolvedSession:
        """The user behind a request's cookies; anything wrong means anonymous + clear."""
        for name in candidate_names(SESSION_COOKIE):
            present = chunk_names(name, cookies)
            if not present:
                continue
            clear = [CookieOut(n, None) for n in present]
            payload = self._sessions.open(join_value(name, cookies))
            if payload is None:
                return ResolvedSession(clear=clear)
            record = self._live_record(payload, touch=touch)
            if record is None:
                return ResolvedSession(clear=clear)
            granted = payload.get("roles") if isinstance(payload.get("roles"), list) else []
            user = self.user_for(payload.get("claims") or {}, str(payload.get("iss")), str(payload.get("sub")),
                                 record.provider, record.expires_at, granted)
            return ResolvedSession(user=user, record=record)
        return ResolvedSession()

    def _live_record(self, payload: Mapping[str, Any], *, touch: bool) -> SessionRecord | None:
        sid = payload.get("sid")
        exp = payload.get("exp")
        now = time.time()
        if not isinstance(sid, str) or not isinstance(exp, (int, float)) or exp <= now:
            return None
        record = self.store.get(sid)
        if record is None or record.expires_at <= now:
            return None
        if self.config.idle_timeout is not None and now - record.last_seen > self.config.idle_timeout:
            self.store.delete(sid)
            return None
        if touch and now - record.last_seen >= TOUCH_INTERVAL:
            record.last_seen = now
            self.store.save(record)
        return record

    def identify(self, cookies: Mapping[str, str], headers: Mapping[str, str], peer: str | None,
                 *, touch: bool = True) -> ResolvedSession:
        """Who made a request: a trusted proxy's assertion first, else the session cookie."""
        proxy = self.config.proxy
        if proxy is not None and proxy.trusts(peer):
            claims = proxy.claims_from(headers)
            if claims is not None:
                return ResolvedSession(user=self.user_for(claims, "proxy", claims["sub"], "proxy", None, ()))
        return self.resolve(cookies, touch=touch)

    def user_for(self, claims: Mapping[str, Any], issuer: str, subject: str, provider: str,
                 expires_at: float | None, granted: Iterable[str]) -> User:
        """The User for a session: claims, the provider's groups claim, ``[auth.roles]``."""
        config = self.config.providers.get(provider)
        return user_from_claims(
            claims, issuer=issuer, subject=subject, provider=provider, expires_at=expires_at,
            groups_claims=config.groups_claims if config else DEFAULT_GROUP_CLAIMS,
            role_rules=self.config.roles, granted_roles=granted,
        )

    def end_session(self, record: SessionRecord | None) -> None:
        """Revoke a session on the server: its cookie stops working everywhere."""
        if record is not None:
            self.store.delete(record.sid)

    def logout_url(self, record: SessionRecord | None, post_logout_redirect_uri: str) -> str | None:
        """Where to send the browser for RP-initiated logout, if the provider supports it."""
        if record is None or record.provider not in self.clients:
            return None
        return self.clients[record.provider].end_session_url(
            record.tokens.get("id_token"), post_logout_redirect_uri, secrets.token_urlsafe(16)
        )

    def refresh_if_due(self, record: SessionRecord) -> SessionRecord | None:
        """Refresh tokens that expire soon (blocks). None when the session has ended."""
        expires = record.tokens.get("expires_at")
        if not isinstance(expires, (int, float)) or expires - time.time() > REFRESH_MARGIN:
            return record
        if not record.tokens.get("refresh_token") or record.provider not in self.clients:
            return record
        sub = record.user_id.split("|", 1)[-1]
        try:
            record.tokens = self.clients[record.provider].refresh(record.tokens, sub)
        except ProviderUnavailable as exc:
            LOGGER.warning("refresh failed, will retry: %s", exc)  # an outage does not end sessions
            return record
        except SignInError as exc:
            LOGGER.info("refresh refused, ending session: %s", exc)
            self.store.delete(record.sid)
            return None
        self.store.save(record)
        return record

    def _client(self, provider: str) -> OIDCClient | GitHubClient:
        client = self.clients.get(provider)
        if client is None:
            raise SignInError(f"unknown provider {provider!r}", "This sign-in option does not exist.")
        return client
