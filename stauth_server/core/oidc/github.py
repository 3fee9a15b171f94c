"""GitHub sign-in: plain OAuth2 (no ID token), the identity from GitHub's user API.

Same interface as ``OIDCClient``; the state, PKCE and exact redirect_uri rules are the
same. The user is keyed on GitHub's numeric account id, never on the login name.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from oauthlib.oauth2 import WebApplicationClient

from ..config import ProviderConfig
from .client import LoginRequest, SignIn
from .errors import ProviderUnavailable, SignInError, StateMismatch
from .transport import ProviderHTTP

AUTHORIZE_URL = "https://github.com/login/oauth/authorize"
TOKEN_URL = "https://github.com/login/oauth/access_token"
API = "https://api.github.com"
ISSUER = "https://github.com"


class GitHubClient:
    """The relying party for GitHub's OAuth2 apps."""

    def __init__(self, provider: ProviderConfig, redirect_uri: str, http: ProviderHTTP | None = None):
        self.provider = provider
        self.redirect_uri = redirect_uri
        self.http = http or ProviderHTTP()
        self._oauth = WebApplicationClient(provider.client_id)

    def authorization_url_blocks(self) -> bool:
        """GitHub's endpoints are fixed: building the URL never makes a request."""
        return False

    def authorization_url(self, login: LoginRequest) -> str:
        message = self._oauth.prepare_request_uri(
            AUTHORIZE_URL,
            redirect_uri=self.redirect_uri,
            scope=self.provider.scope.split(),
            state=login.state,
            code_challenge=self._oauth.create_code_challenge(login.code_verifier, "S256"),
            code_challenge_method="S256",
        )
        return f"{AUTHORIZE_URL}?{urlsplit(message).query}"

    def finish(self, params: Mapping[str, str], login: LoginRequest) -> SignIn:
        state = params.get("state") or ""
        if not hmac.compare_digest(state.encode(), login.state.encode()):
            raise StateMismatch("callback state does not match the login in progress",
                                "This sign-in link does not belong to a sign-in started here.")
        if params.get("error"):
            raise SignInError(f"GitHub answered error={params['error']!r}",
                              "Sign-in was cancelled or refused at GitHub.")
        code = params.get("code")
        if not code:
            raise SignInError("callback without code", "GitHub sent no authorization code.")
        body = self._oauth.prepare_request_body(code=code, redirect_uri=self.redirect_uri,
                                                code_verifier=login.code_verifier, include_client_id=True,
                                                client_secret=self.provider.client_secret)
        status, answer = self.http.post_form(TOKEN_URL, body, headers={"Accept": "application/json"}, what="token")
        access = answer.get("access_token") if isinstance(answer, dict) else None
        if status != 200 or not isinstance(access, str):
            error = answer.get("error") if isinstance(answer, dict) else None
            if error in ("incorrect_client_credentials", "redirect_uri_mismatch"):
                raise SignInError(f"GitHub token error {error!r}", "The app's GitHub sign-in settings are wrong.")
            raise ProviderUnavailable(f"GitHub token endpoint HTTP {status} error={error!r}",
                                      "GitHub refused to complete the sign-in.")
        headers = {"Authorization": f"Bearer {access}", "Accept": "application/vnd.github+json"}
        user = self.http.get_json(f"{API}/user", headers=headers, what="github user")
        if not isinstance(user, dict) or not isinstance(user.get("id"), int):
            raise ProviderUnavailable("GitHub user API answered without an id", "GitHub answered oddly.")
        claims: dict[str, Any] = {
            "sub": str(user["id"]),
            "preferred_username": user.get("login"),
            "name": user.get("name") or user.get("login"),
            "picture": user.get("avatar_url"),
            "email": self._verified_email(headers) or None,
        }
        claims["email_verified"] = bool(claims["email"])
        tokens = {"access_token": access}
        if isinstance(answer.get("expires_in"), (int, float)):
            tokens["expires_at"] = time.time() + float(answer["expires_in"])
        return SignIn(issuer=ISSUER, subject=claims["sub"], claims={k: v for k, v in claims.items() if v is not None},
                      tokens=tokens)

    def _verified_email(self, headers: dict[str, str]) -> str | None:
        try:
            emails = self.http.get_json(f"{API}/user/emails", headers=headers, what="github emails")
        except ProviderUnavailable:
            return None
        for item in emails if isinstance(emails, list) else []:
            if isinstance(item, dict) and item.get("primary") and item.get("verified"):
                return str(item.get("email"))
        return None

    def refresh(self, tokens: Mapping[str, Any], subject: str) -> dict[str, Any]:
        raise SignInError("GitHub OAuth apps issue no refresh tokens", "Your session has ended.")

    def end_session_url(self, id_token: str | None, post_logout_redirect_uri: str, state: str) -> str | None:
        return None
