"""One identity provider, as a relying party sees it: the authorization code flow with
PKCE, code exchange, ID token and userinfo, refresh, and RP-initiated logout.

OAuth2 messages are built with oauthlib; JOSE is PyJWT's. Every method blocks on HTTP:
the server layer calls them from a thread pool.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from oauthlib.oauth2 import WebApplicationClient

from ..config import ProviderConfig
from .errors import ProviderUnavailable, SignInError, StateMismatch, TokenRejected
from .id_token import BAD_SIGNATURE, allowed_algorithms, validate_id_token
from .metadata import KeySet, ProviderMetadata
from .tenants import PLACEHOLDER
from .transport import ProviderHTTP

#: Claims that describe the token, not the person: never taken from userinfo.
TOKEN_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "iat", "nbf", "nonce", "azp", "at_hash", "c_hash", "auth_time", "jti", "sid"})


@dataclass(frozen=True)
class LoginRequest:
    """An in-flight login: what the callback must match. Kept in an encrypted cookie."""

    provider: str
    state: str
    nonce: str
    code_verifier: str
    next_path: str
    created: float

    @classmethod
    def new(cls, provider: str, next_path: str) -> LoginRequest:
        return cls(
            provider=provider,
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(64),  # 86 characters of RFC 7636's unreserved set
            next_path=next_path,
            created=time.time(),
        )

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LoginRequest | None:
        """The login in flight, or None unless every field has its type (even a cookie sealed
        with a leaked or retired secret cannot smuggle other shapes into the flow)."""
        try:
            values = {key: data[key] for key in cls.__dataclass_fields__}
        except (KeyError, TypeError):
            return None
        texts = ("provider", "state", "nonce", "code_verifier", "next_path")
        if not all(isinstance(values[key], str) for key in texts):
            return None
        if not isinstance(values["created"], (int, float)) or isinstance(values["created"], bool):
            return None
        return cls(**values)


@dataclass
class SignIn:
    """A completed sign-in: who (claims) and the tokens, with ``expires_at`` in Unix time."""

    issuer: str
    subject: str
    claims: dict[str, Any]
    tokens: dict[str, Any] = field(default_factory=dict)


#: client_kwargs that never reach the authorization URL: the flow sets these itself (PKCE is
#: always S256; state, nonce and redirect_uri are ours), or they configure the client, not
#: the request (Authlib's token_endpoint_auth_method), or they are secret.
RESERVED_CLIENT_KWARGS = frozenset({
    "scope", "state", "nonce", "redirect_uri", "response_type", "client_id", "client_secret",
    "code_challenge", "code_challenge_method", "token_endpoint_auth_method",
})
TOKEN_AUTH_METHODS = ("client_secret_basic", "client_secret_post")

_USER_MESSAGES = {
    "access_denied": "Sign-in was cancelled or refused at the identity provider.",
    "login_required": "The identity provider needs you to sign in again.",
    "consent_required": "The identity provider needs your consent first.",
}


def _expires_at(expires_in: Any) -> float | None:
    """Unix time the access token expires: ``expires_in`` as a number, or the numeric
    string some providers send (Azure AD v1, older ADFS); None when absent or nonsense."""
    if isinstance(expires_in, str) and expires_in.strip().isascii() and expires_in.strip().isdigit():
        expires_in = int(expires_in)
    if isinstance(expires_in, bool) or not isinstance(expires_in, (int, float)) or not 0 < expires_in < 10**9:
        return None
    return time.time() + float(expires_in)


class OIDCClient:
    """The relying party for one configured OpenID Provider."""

    def __init__(self, provider: ProviderConfig, redirect_uri: str, http: ProviderHTTP | None = None):
        assert provider.server_metadata_url is not None
        self.provider = provider
        self.redirect_uri = redirect_uri
        self.http = http or ProviderHTTP()
        self.metadata = ProviderMetadata(provider.server_metadata_url, self.http, tenants=provider.tenants)
        self.keys = KeySet(self.http)
        self._oauth = WebApplicationClient(provider.client_id)

    def authorization_url_blocks(self) -> bool:
        """Whether ``authorization_url`` must fetch discovery first (else it is CPU only)."""
        return not self.metadata.is_fresh()

    def authorization_url(self, login: LoginRequest) -> str:
        meta = self.metadata.get()
        extra = {k: v for k, v in self.provider.client_kwargs.items()
                 if k not in RESERVED_CLIENT_KWARGS and isinstance(v, str)}
        # oauthlib builds the message; it only accepts https URLs, and loopback http
        # providers (tests, local development) were already vetted by ProviderMetadata.
        message = self._oauth.prepare_request_uri(
            "https://authorization.invalid/",
            redirect_uri=self.redirect_uri,
            scope=self.provider.scope.split(),
            state=login.state,
            nonce=login.nonce,
            code_challenge=self._oauth.create_code_challenge(login.code_verifier, "S256"),
            code_challenge_method="S256",
            **extra,
        )
        endpoint = meta["authorization_endpoint"]
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlsplit(message).query}"

    def finish(self, params: Mapping[str, str], login: LoginRequest) -> SignIn:
        """Check the authorization response, redeem the code, validate what comes back."""
        state = params.get("state") or ""
        if not hmac.compare_digest(state.encode(), login.state.encode()):
            raise StateMismatch("callback state does not match the login in progress",
                                "This sign-in link does not belong to a sign-in started here.")
        meta = self.metadata.get()
        self._check_response_issuer(params, meta)
        if params.get("error"):
            code = params["error"]
            raise SignInError(f"provider answered error={code!r}: {params.get('error_description', '')[:200]}",
                              _USER_MESSAGES.get(code, "The identity provider refused the sign-in."))
        code = params.get("code")
        if not code:
            raise SignInError("callback without code", "The identity provider sent no authorization code.")
        tokens = self._token_request(meta, self._oauth.prepare_request_body(
            code=code, redirect_uri=self.redirect_uri, code_verifier=login.code_verifier,
            include_client_id=not self.provider.client_secret,
        ))
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise TokenRejected("token response has no id_token")
        claims = self._validate(id_token, meta, nonce=login.nonce)
        issuer = claims["iss"] if self._templated(meta) else meta["issuer"]  # multi-tenant: the user's tenant
        if self.provider.userinfo.wanted(claims):
            claims = self._merge_userinfo(claims, tokens["access_token"], meta)
        return SignIn(issuer=issuer, subject=claims["sub"], claims=claims, tokens=tokens)

    def refresh(self, tokens: Mapping[str, Any], subject: str) -> dict[str, Any]:
        """New tokens from the refresh token; ``SignInError`` when the provider says no."""
        refresh_token = tokens.get("refresh_token")
        if not refresh_token:
            raise SignInError("no refresh token", "Your session has ended.")
        meta = self.metadata.get()
        fresh = self._token_request(meta, self._oauth.prepare_refresh_body(
            refresh_token=refresh_token, include_client_id=not self.provider.client_secret,
            **({"client_id": self.provider.client_id} if not self.provider.client_secret else {}),
        ))
        fresh.setdefault("refresh_token", refresh_token)
        if isinstance(fresh.get("id_token"), str):
            claims = self._validate(fresh["id_token"], meta, nonce=None)
            if claims["sub"] != subject:
                raise TokenRejected("refreshed ID token names another subject")
        else:
            fresh["id_token"] = tokens.get("id_token")
        return fresh

    def end_session_url(self, id_token: str | None, post_logout_redirect_uri: str, state: str) -> str | None:
        """RP-initiated logout URL, when the provider advertises ``end_session_endpoint``."""
        try:
            endpoint = self.metadata.get().get("end_session_endpoint")
        except ProviderUnavailable:
            return None
        if not isinstance(endpoint, str) or not endpoint:
            return None
        query = {"client_id": self.provider.client_id, "post_logout_redirect_uri": post_logout_redirect_uri, "state": state}
        if id_token:
            query["id_token_hint"] = id_token
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"

    # --- internals ------------------------------------------------------------------

    def _templated(self, meta: Mapping[str, Any]) -> bool:
        """A Microsoft multi-tenant app, whose issuer is the ``{tenantid}`` template."""
        return self.provider.tenants is not None and PLACEHOLDER in meta["issuer"]

    def _check_response_issuer(self, params: Mapping[str, str], meta: Mapping[str, Any]) -> None:
        """RFC 9207: the ``iss`` of the authorization response names our provider."""
        iss = params.get("iss")
        if iss is None:
            if meta.get("authorization_response_iss_parameter_supported"):
                raise SignInError("authorization response without iss, which the provider advertises",
                                  "The sign-in response is incomplete.")
            return
        if self._templated(meta):
            if not self.provider.tenants.response_issuer_ok(iss, meta["issuer"]):  # type: ignore[union-attr]
                raise SignInError(f"authorization response iss {iss[:200]!r} is not {meta['issuer']!r} "
                                  "with an allowed tenant", "The sign-in response came from another identity provider.")
            return
        if iss != meta["issuer"]:
            raise SignInError(f"authorization response iss {iss!r} is not {meta['issuer']!r}",
                              "The sign-in response came from another identity provider.")

    def _token_request(self, meta: Mapping[str, Any], body: str) -> dict[str, Any]:
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        auth = None
        secret = self.provider.client_secret
        methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        configured = self.provider.client_kwargs.get("token_endpoint_auth_method")
        if configured in TOKEN_AUTH_METHODS:  # chosen in config (Authlib's key): honoured
            methods = [configured]
        if secret and "client_secret_basic" not in methods and "client_secret_post" in methods:
            body = f"{body}&{urlencode({'client_id': self.provider.client_id, 'client_secret': secret})}"
        elif secret:
            from urllib.parse import quote

            auth = (quote(self.provider.client_id, safe=""), quote(secret, safe=""))
        status, answer = self.http.post_form(meta["token_endpoint"], body, headers=headers, auth=auth, what="token")
        if status != 200 or not isinstance(answer, dict):
            error = answer.get("error") if isinstance(answer, dict) else None
            detail = f"token endpoint answered HTTP {status} error={error!r}"
            if error == "invalid_client":
                raise SignInError(detail, "The app's sign-in settings are wrong (client id or secret).")
            if error == "invalid_grant":
                raise SignInError(detail, "This sign-in expired or was already used. Please sign in again.")
            raise ProviderUnavailable(detail, "The identity provider refused to complete the sign-in.")
        access = answer.get("access_token")
        if not isinstance(access, str) or not access:
            raise ProviderUnavailable("token response has no access_token", "The identity provider answered oddly.")
        if str(answer.get("token_type", "")).lower() not in ("bearer", "dpop"):
            raise ProviderUnavailable(f"token_type {answer.get('token_type')!r}", "The identity provider answered oddly.")
        expires_in = answer.get("expires_in")
        tokens = {
            "access_token": access,
            "id_token": answer.get("id_token"),
            "refresh_token": answer.get("refresh_token"),
            "expires_at": _expires_at(expires_in),
        }
        return {k: v for k, v in tokens.items() if v is not None}

    def _validate(self, id_token: str, meta: Mapping[str, Any], *, nonce: str | None) -> dict[str, Any]:
        def validate() -> dict[str, Any]:
            return validate_id_token(
                id_token,
                key_for=lambda kid, alg: self.keys.key_for(meta["jwks_uri"], kid, alg),
                issuer=meta["issuer"],
                client_id=self.provider.client_id,
                nonce=nonce,
                algorithms=allowed_algorithms(meta.get("id_token_signing_alg_values_supported")),
                tenants=self.provider.tenants,
            )

        try:
            return validate()
        except TokenRejected as rejected:
            # A key replaced under the same kid (a restarted provider): refetch once, rate-limited.
            if str(rejected) != BAD_SIGNATURE or not self.keys.refetch(meta["jwks_uri"]):
                raise
            return validate()

    def _merge_userinfo(self, claims: dict[str, Any], access_token: str, meta: Mapping[str, Any]) -> dict[str, Any]:
        endpoint = meta.get("userinfo_endpoint")
        if not isinstance(endpoint, str) or not endpoint:
            return claims
        info = self.http.get_json(endpoint, headers={"Authorization": f"Bearer {access_token}"}, what="userinfo")
        if not isinstance(info, dict):
            raise TokenRejected("userinfo is not a JSON object")
        if info.get("sub") != claims["sub"]:
            raise TokenRejected("userinfo sub differs from the ID token's")
        merged = dict(claims)
        merged.update({k: v for k, v in info.items() if k not in TOKEN_CLAIMS})
        return merged
