"""A small, scriptable, malicious OpenID Provider living inside the test process.

``FakeOP`` implements the interface of ``stauth_server.core.oidc.transport.ProviderHTTP``
(``get_json`` and ``post_form``), so it is handed to ``OIDCClient(..., http=op)`` and no
socket is ever opened. It plays an honest OP by default (discovery, JWKS, an
authorization endpoint simulated by ``authorize()``, a token endpoint that checks the
code, the PKCE verifier, the redirect_uri and the client authentication, and userinfo)
and turns hostile on demand: every field below is a knob a test turns to plant exactly
one defect.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import secrets
import time
from collections import Counter
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote, urlsplit

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from stauth_server.core.oidc.errors import ProviderUnavailable

WELL_KNOWN = "/.well-known/openid-configuration"
#: Remove a claim or header field (value for ``claim_changes`` / ``header_changes``).
DROP = object()
#: "No override" (so that ``None``, JSON null, can be planted as an answer).
UNSET = object()


def _new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


#: Generated once per test run: RSA key generation is the slow part of these tests.
KEYS: dict[str, rsa.RSAPrivateKey] = {"key-1": _new_rsa_key(), "key-2": _new_rsa_key()}
#: A key the OP never publishes (an attacker's key).
ATTACKER_KEY = _new_rsa_key()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def public_jwk(kid: str | None, key: rsa.RSAPrivateKey, **extra: Any) -> dict[str, Any]:
    jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    if kid is not None:
        jwk["kid"] = kid
    jwk.update({"use": "sig", "alg": "RS256"})
    jwk.update(extra)
    return jwk


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def hs256_token(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """An HS256 JWS built by hand (PyJWT refuses a PEM as HMAC secret, as it should)."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def rs256_token(header: dict[str, Any], claims: dict[str, Any], key: rsa.RSAPrivateKey) -> str:
    """An RS256 JWS built by hand, so that headers PyJWT would refuse to write can be planted."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


class FakeOP:
    """An in-process OpenID Provider implementing ``ProviderHTTP``'s interface."""

    def __init__(self, *, issuer: str = "https://op.example.test", client_id: str = "rp-client",
                 client_secret: str | None = "rp-secret"):
        self.issuer = issuer
        self.discovery_url = issuer + WELL_KNOWN
        self.client_id = client_id
        self.client_secret = client_secret
        self.authorization_endpoint = f"{issuer}/authorize"
        self.token_endpoint = f"{issuer}/token"
        self.jwks_uri = f"{issuer}/jwks"
        self.userinfo_endpoint = f"{issuer}/userinfo"
        self.end_session_endpoint = f"{issuer}/logout"
        self.discovery: dict[str, Any] = {
            "issuer": issuer,
            "authorization_endpoint": self.authorization_endpoint,
            "token_endpoint": self.token_endpoint,
            "jwks_uri": self.jwks_uri,
            "userinfo_endpoint": self.userinfo_endpoint,
            "end_session_endpoint": self.end_session_endpoint,
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }
        #: kid -> private key the OP may sign with; ``published`` lists what the JWKS shows.
        self.signing_keys: dict[str, rsa.RSAPrivateKey] = dict(KEYS)
        self.active_kid = "key-1"
        self.published: list[str] = ["key-1"]
        #: Replaces the whole JWKS document when set (hostile shapes).
        self.jwks_override: Any = UNSET

        self.subject = "user-123"
        self.id_token_claims: dict[str, Any] = {"email": "alice@example.org", "name": "Alice Example"}
        self.userinfo_claims: dict[str, Any] | None = {"email": "alice@example.org", "name": "Alice Example"}
        #: Replaces the whole userinfo answer when set.
        self.userinfo_override: Any = UNSET
        #: Applied last to every ID token's claims / header (``DROP`` removes a key).
        self.claim_changes: dict[str, Any] = {}
        self.header_changes: dict[str, Any] = {}
        #: "rsa", "attacker-key", "none", "hs256-public-pem", "flip-signature"
        self.signing = "rsa"

        #: Token endpoint defects: an OAuth error code, extra fields, a whole answer.
        self.token_error: str | None = None
        self.token_extra: dict[str, Any] = {}
        #: Refresh behaviour.
        self.rotate_refresh_token = False
        self.id_token_on_refresh = True
        self.refresh_subject: str | None = None

        self.unreachable = False
        self.fetches: Counter[str] = Counter()
        self.token_requests: list[dict[str, Any]] = []
        self.authorizations: list[dict[str, str]] = []
        self._codes: dict[str, dict[str, Any]] = {}
        self._refresh_tokens: dict[str, dict[str, Any]] = {}
        self._access_tokens: set[str] = set()

    # --- knobs ----------------------------------------------------------------------

    def rotate_to(self, kid: str, *, keep_old: bool = False) -> None:
        """Start signing with ``kid`` and publish it (dropping the old key unless kept)."""
        self.active_kid = kid
        self.published = [*self.published, kid] if keep_old else [kid]

    def jwks(self) -> dict[str, Any]:
        if self.jwks_override is not UNSET:
            return copy.deepcopy(self.jwks_override)
        return {"keys": [public_jwk(kid, self.signing_keys[kid]) for kid in self.published]}

    # --- the authorization endpoint, as the browser would reach it -------------------

    def authorize(self, url: str, *, error: str | None = None, include_iss: bool | None = None,
                  iss: str | None = None) -> dict[str, str]:
        """The callback query the OP would redirect the browser to after the user consents."""
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == self.authorization_endpoint
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.authorizations.append(query)
        assert query["response_type"] == "code"
        assert query["client_id"] == self.client_id
        params: dict[str, str] = {"state": query.get("state", "")}
        if error is not None:
            params.update(error=error, error_description="the user said no")
        else:
            code = secrets.token_urlsafe(16)
            self._codes[code] = {
                "nonce": query.get("nonce"),
                "code_challenge": query.get("code_challenge"),
                "code_challenge_method": query.get("code_challenge_method"),
                "redirect_uri": query.get("redirect_uri"),
            }
            params["code"] = code
        if include_iss is None:
            include_iss = bool(self.discovery.get("authorization_response_iss_parameter_supported"))
        if include_iss:
            params["iss"] = iss if iss is not None else self.issuer
        return params

    # --- ID tokens ---------------------------------------------------------------------

    def id_token(self, *, nonce: str | None, subject: str | None = None) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer, "sub": subject or self.subject, "aud": self.client_id,
            "iat": now, "exp": now + 3600, **self.id_token_claims,
        }
        if nonce is not None:
            claims["nonce"] = nonce
        header: dict[str, Any] = {"kid": self.active_kid}
        for target, changes in ((claims, self.claim_changes), (header, self.header_changes)):
            for key, value in changes.items():
                if value is DROP:
                    target.pop(key, None)
                else:
                    target[key] = value
        return self.sign(claims, header)

    def sign(self, claims: dict[str, Any], header: dict[str, Any]) -> str:
        if self.signing == "none":
            return jwt.encode(claims, None, algorithm="none", headers=header)
        if self.signing == "hs256-public-pem":
            pem = public_pem(self.signing_keys[self.active_kid])
            return hs256_token({"alg": "HS256", "typ": "JWT", **header}, claims, pem)
        key = ATTACKER_KEY if self.signing == "attacker-key" else self.signing_keys[self.active_kid]
        token = rs256_token({"alg": "RS256", "typ": "JWT", **header}, claims, key)
        if self.signing == "flip-signature":
            head, payload, signature = token.split(".")
            raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
            raw[len(raw) // 2] ^= 0x01
            token = f"{head}.{payload}.{b64url(bytes(raw))}"
        return token

    # --- ProviderHTTP's interface ----------------------------------------------------

    def get_json(self, url: str, *, headers: dict[str, str] | None = None, what: str) -> Any:
        self._reachable(what, url)
        self.fetches[what] += 1
        if url == self.discovery_url:
            return copy.deepcopy(self.discovery)
        if url == self.jwks_uri:
            return self.jwks()
        if url == self.userinfo_endpoint:
            bearer = (headers or {}).get("Authorization", "")
            if not bearer.startswith("Bearer ") or bearer[len("Bearer "):] not in self._access_tokens:
                raise ProviderUnavailable(f"{what}: HTTP 401 from {url}", "The identity provider answered with an error.")
            if self.userinfo_override is not UNSET:
                return copy.deepcopy(self.userinfo_override)
            return {"sub": self.subject, **(self.userinfo_claims or {})}
        raise ProviderUnavailable(f"{what}: HTTP 404 from {url}", "The identity provider answered with an error.")

    def post_form(self, url: str, data: dict[str, str] | str, *, headers: dict[str, str] | None = None,
                  auth: tuple[str, str] | None = None, what: str) -> tuple[int, Any]:
        self._reachable(what, url)
        self.fetches[what] += 1
        form = {k: v[0] for k, v in parse_qs(data, keep_blank_values=True).items()} if isinstance(data, str) else dict(data)
        self.token_requests.append({"url": url, "form": form, "auth": auth, "headers": dict(headers or {})})
        if url != self.token_endpoint:
            return 404, {"error": "not_found"}
        if self.token_error is not None:
            return (401 if self.token_error == "invalid_client" else 400), {"error": self.token_error}
        if not self._client_authenticated(form, auth):
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") == "authorization_code":
            return self._redeem_code(form)
        if form.get("grant_type") == "refresh_token":
            return self._redeem_refresh_token(form)
        return 400, {"error": "unsupported_grant_type"}

    # --- internals ---------------------------------------------------------------------

    def _reachable(self, what: str, url: str) -> None:
        if self.unreachable:
            raise ProviderUnavailable(f"{what}: GET {url} failed: ConnectionError",
                                      "The identity provider could not be reached. Try again in a moment.")

    def _client_authenticated(self, form: dict[str, str], auth: tuple[str, str] | None) -> bool:
        if self.client_secret is None:
            return auth is None and form.get("client_id") == self.client_id and "client_secret" not in form
        if auth is not None:
            return (unquote(auth[0]), unquote(auth[1])) == (self.client_id, self.client_secret) \
                and "client_secret" not in form
        return form.get("client_id") == self.client_id and form.get("client_secret") == self.client_secret

    def _issue(self, grant: dict[str, Any], *, nonce: str | None, subject: str | None = None,
               with_id_token: bool = True, refresh_token: str | None = None) -> tuple[int, dict[str, Any]]:
        access = secrets.token_urlsafe(16)
        self._access_tokens.add(access)
        refresh = refresh_token or secrets.token_urlsafe(16)
        self._refresh_tokens[refresh] = grant
        answer: dict[str, Any] = {"access_token": access, "token_type": "Bearer", "expires_in": 3600,
                                  "refresh_token": refresh}
        if with_id_token:
            answer["id_token"] = self.id_token(nonce=nonce, subject=subject)
        answer.update(self.token_extra)
        return 200, answer

    def _redeem_code(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grant = self._codes.pop(form.get("code", ""), None)  # codes are single use
        if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "")
        if grant["code_challenge_method"] != "S256" or \
                b64url(hashlib.sha256(verifier.encode()).digest()) != grant["code_challenge"]:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        grant = {**grant, "code_verifier": verifier}
        return self._issue(grant, nonce=grant["nonce"])

    def _redeem_refresh_token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        old = form.get("refresh_token", "")
        grant = self._refresh_tokens.get(old)
        if grant is None:
            return 400, {"error": "invalid_grant"}
        status, answer = self._issue(grant, nonce=None, subject=self.refresh_subject,
                                     with_id_token=self.id_token_on_refresh,
                                     refresh_token=None if self.rotate_refresh_token else old)
        if not self.rotate_refresh_token:
            answer.pop("refresh_token")  # not rotated: the OP sends none back
        return status, answer
