"""Who a machine client is: an ``Authorization: Bearer`` token on an ``@sa.route`` call.

Two kinds of token are accepted, and nothing else:

- a JWT access token from a configured OpenID provider with ``api_audience``: signature
  from the provider's JWKS (the sign-in client's cache, refetched for a new key), exact
  issuer, that audience, ``exp``/``nbf``, asymmetric algorithms the provider advertises;
- a personal API token of a local account (``core.api_tokens``, ``streamlit-auth tokens``).

The user is built exactly as for a browser sign-in (``SignInService.user_for``: the
provider's groups claim, ``[auth.roles]``, a local account's own roles) and the
``on_login`` hooks run for it (their answer cached for a few minutes). A bearer token never
creates a session. Every method blocks (provider, users file): run it off the event loop.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .api_tokens import find, looks_like_api_token
from .hooks import LoginRefused, run_login_hooks
from .identity import User
from .oidc.access_tokens import BAD_SIGNATURE, unverified_issuer, validate_access_token
from .oidc.client import TOKEN_CLAIMS, OIDCClient
from .oidc.errors import ProviderUnavailable, TokenRejected
from .oidc.id_token import allowed_algorithms
from .sources.local import UsersFileError

if TYPE_CHECKING:
    from .signin import SignInService

#: How long an ``on_login`` hook's answer for one bearer identity is reused.
HOOK_CACHE_SECONDS = 300
HOOK_CACHE_SIZE = 10_000
MAX_TOKEN_LENGTH = 16_384


class InvalidBearerToken(Exception):
    """The token is malformed, forged, expired, for another API or from a stranger (401).

    ``str(self)`` says which rule failed, for the server log; never the token.
    """


class BearerRefused(Exception):
    """The token is valid but an ``on_login`` hook refuses its user (403)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BearerUnavailable(Exception):
    """The provider or the users file cannot be read right now: not the client's fault (503)."""


class BearerAuthenticator:
    """Checks bearer tokens against the sign-in service's providers and users file."""

    def __init__(self, service: SignInService, clock: Any = time.time):
        self.service = service
        self._clock = clock
        self._hooks: OrderedDict[str, tuple[float, dict[str, Any], list[str], str | None]] = OrderedDict()
        self._lock = threading.Lock()

    def api_clients(self) -> list[tuple[str, OIDCClient]]:
        """The providers whose JWT access tokens are accepted (``api_audience`` set)."""
        return [(name, client) for name, client in self.service.clients.items()
                if isinstance(client, OIDCClient) and client.provider.api_audience]

    def authenticate(self, token: str) -> User:
        """The user a bearer token stands for (blocks); raises the errors above."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidBearerToken("bearer token empty or too long")
        if looks_like_api_token(token):
            return self._api_token(token)
        if token.count(".") == 2:
            return self._access_token(token)
        raise InvalidBearerToken("bearer token is neither a JWT nor a personal API token")

    # --- JWT access tokens ------------------------------------------------------------

    def _access_token(self, token: str) -> User:
        issuer = unverified_issuer(token)
        if issuer is None:
            raise InvalidBearerToken("access token: malformed or without iss")
        unreachable = False
        for name, client in self.api_clients():
            try:
                meta = client.metadata.get()
            except ProviderUnavailable:
                unreachable = True
                continue
            if meta["issuer"] == issuer:
                claims = self._validate(client, meta, token)
                return self._user(claims, meta["issuer"], claims["sub"], name, _number(claims.get("exp")), (),
                                  "bearer-jwt")
        if unreachable:
            raise BearerUnavailable("an identity provider with api_audience could not be reached")
        raise InvalidBearerToken(f"access token: issuer {issuer[:100]!r} is not a provider with api_audience")

    def _validate(self, client: OIDCClient, meta: Mapping[str, Any], token: str) -> dict[str, Any]:
        def validate() -> dict[str, Any]:
            return validate_access_token(
                token,
                key_for=lambda kid, alg: client.keys.key_for(meta["jwks_uri"], kid, alg),
                issuer=meta["issuer"],
                audience=str(client.provider.api_audience),
                algorithms=allowed_algorithms(meta.get("id_token_signing_alg_values_supported")),
            )

        try:
            try:
                return validate()
            except TokenRejected as rejected:
                # A key replaced under the same kid (a restarted provider): refetch once, rate-limited.
                if str(rejected) != BAD_SIGNATURE or not client.keys.refetch(meta["jwks_uri"]):
                    raise
                return validate()
        except TokenRejected as rejected:
            raise InvalidBearerToken(str(rejected)) from None
        except ProviderUnavailable as exc:
            raise BearerUnavailable(str(exc)) from None

    # --- personal API tokens ----------------------------------------------------------

    def _api_token(self, token: str) -> User:
        users = self.service.users
        if users is None:
            raise InvalidBearerToken("personal API token, but [auth.local] is not configured")
        try:
            accounts, records = users.accounts(), users.api_tokens()
        except UsersFileError as exc:
            raise BearerUnavailable(str(exc)) from None
        record = find(records.values(), token)
        if record is None:
            raise InvalidBearerToken("personal API token: unknown or revoked")
        if record.expired(self._clock()):
            raise InvalidBearerToken(f"personal API token {record.id}: expired")
        account = accounts.get(record.user)
        if account is None or account.disabled:
            raise InvalidBearerToken(f"personal API token {record.id}: account {record.user!r} missing or disabled")
        return self._user(account.claims(), "local", account.username, "local",
                          float(record.expires) if record.expires is not None else None, account.roles, "api-token")

    # --- the user, as a browser sign-in would make it ---------------------------------

    def _user(self, claims: Mapping[str, Any], issuer: str, subject: str, provider: str,
              expires_at: float | None, granted: Iterable[str], method: str) -> User:
        service = self.service
        user = service.user_for(claims, issuer, subject, provider, expires_at, granted)
        extra, hook_roles, refused = self._hook_answer(user, provider, claims)
        if refused is not None:
            raise BearerRefused(refused)
        if extra or hook_roles:
            user = service.user_for({**claims, **extra}, issuer, subject, provider, expires_at,
                                    [*granted, *hook_roles])
        return dataclasses.replace(user, auth_method=method)

    def _hook_answer(self, user: User, provider: str, claims: Mapping[str, Any]) -> tuple[dict[str, Any], list[str], str | None]:
        stable = {k: v for k, v in claims.items() if k not in TOKEN_CLAIMS}
        key = hashlib.sha256(json.dumps([provider, user.id, stable], sort_keys=True, default=str).encode()).hexdigest()
        now = self._clock()
        with self._lock:
            cached = self._hooks.get(key)
            if cached is not None and cached[0] > now:
                return cached[1], cached[2], cached[3]
        try:
            extra, roles = run_login_hooks(user, provider)
            answer: tuple[float, dict[str, Any], list[str], str | None] = (now + HOOK_CACHE_SECONDS, extra, roles, None)
        except LoginRefused as refused:
            answer = (now + HOOK_CACHE_SECONDS, {}, [], refused.message)
        with self._lock:
            self._hooks[key] = answer
            while len(self._hooks) > HOOK_CACHE_SIZE:
                self._hooks.popitem(last=False)
        return answer[1], answer[2], answer[3]


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
