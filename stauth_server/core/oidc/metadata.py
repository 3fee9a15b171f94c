"""Discovery documents and JWKS, cached with a TTL so page loads never call the provider."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import jwt

from .errors import ProviderUnavailable, TokenRejected
from .tenants import TenantRule
from .transport import ProviderHTTP

WELL_KNOWN = "/.well-known/openid-configuration"
METADATA_TTL = 3600.0
JWKS_TTL = 3600.0
#: A token with an unknown ``kid`` triggers at most one JWKS refetch per this many seconds.
JWKS_REFETCH_INTERVAL = 10.0
ASYMMETRIC_ALGS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"})


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_secure_url(url: object) -> bool:
    """https, or http to this machine's loopback (local development and tests)."""
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)


def expected_issuer(metadata_url: str) -> str | None:
    """The issuer a discovery URL promises (OIDC Discovery 4.3), when it is the well-known one."""
    if metadata_url.endswith(WELL_KNOWN):
        return metadata_url[: -len(WELL_KNOWN)]
    return None


class ProviderMetadata:
    """Discovery document of one OpenID Provider, fetched lazily, refreshed after a TTL."""

    def __init__(self, url: str, http: ProviderHTTP, clock: Callable[[], float] = time.monotonic,
                 tenants: TenantRule | None = None):
        self.url = url
        #: A Microsoft multi-tenant app: the issuer may be the ``{tenantid}`` template.
        self.tenants = tenants
        self._http = http
        self._clock = clock
        self._lock = threading.Lock()
        self._doc: dict[str, Any] | None = None
        self._fetched = 0.0

    def is_fresh(self) -> bool:
        """Whether ``get`` would answer from memory, without a request to the provider."""
        return self._doc is not None and self._clock() - self._fetched <= METADATA_TTL

    def get(self) -> dict[str, Any]:
        with self._lock:
            if self._doc is None or self._clock() - self._fetched > METADATA_TTL:
                self._doc = self._fetch()
                self._fetched = self._clock()
            return self._doc

    def _fetch(self) -> dict[str, Any]:
        doc = self._http.get_json(self.url, what="discovery")
        if not isinstance(doc, dict):
            raise ProviderUnavailable("discovery: not a JSON object", "The identity provider is misconfigured.")
        for key in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(doc.get(key), str) or not doc[key]:
                raise ProviderUnavailable(f"discovery: {key} missing", "The identity provider is misconfigured.")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint", "end_session_endpoint"):
            if key in doc and not is_secure_url(doc[key]):
                raise ProviderUnavailable(f"discovery: {key} is not https", "The identity provider is misconfigured.")
        promised = expected_issuer(self.url)
        # Discovery 4.1: a terminating "/" of the issuer is dropped before the well-known
        # path is appended, so "https://x/" legitimately publishes at https://x/.well-known/...
        templated = self.tenants is not None and self.tenants.discovery_issuer_ok(doc["issuer"], promised)
        if promised is not None and doc["issuer"] not in (promised, promised + "/") and not templated:
            raise ProviderUnavailable(
                f"discovery: issuer {doc['issuer']!r} differs from the discovery URL's {promised!r}",
                "The identity provider is misconfigured.",
            )
        return doc


class KeySet:
    """The provider's signing keys (JWKS), with one refetch for an unknown ``kid``."""

    def __init__(self, http: ProviderHTTP, clock: Callable[[], float] = time.monotonic):
        self._http = http
        self._clock = clock
        self._lock = threading.Lock()
        self._uri: str | None = None
        self._keys: list[dict[str, Any]] = []
        self._fetched = 0.0
        self._last_refetch = -JWKS_REFETCH_INTERVAL

    def key_for(self, jwks_uri: str, kid: str | None, alg: str) -> Any:
        """The public key to verify a token signed with ``alg`` by key ``kid``."""
        with self._lock:
            if self._uri != jwks_uri or self._clock() - self._fetched > JWKS_TTL:
                self._load(jwks_uri)
            found = self._match(kid, alg)
            if found is None and kid is not None and self._clock() - self._last_refetch >= JWKS_REFETCH_INTERVAL:
                self._last_refetch = self._clock()
                self._load(jwks_uri)
                found = self._match(kid, alg)
            if found is None:
                raise TokenRejected(f"ID token: no signing key for kid={kid!r} alg={alg}")
            try:
                return jwt.PyJWK(found, algorithm=alg).key
            except (jwt.PyJWKError, jwt.InvalidKeyError, KeyError, ValueError, TypeError) as exc:
                raise TokenRejected(f"ID token: key {kid!r} unusable for {alg}: {type(exc).__name__}") from None

    def refetch(self, jwks_uri: str) -> bool:
        """Fetch the keys again (a signature failed with a known ``kid``: the provider may
        have replaced a key under the same id); at most once per refetch interval."""
        with self._lock:
            if self._clock() - self._last_refetch < JWKS_REFETCH_INTERVAL:
                return False
            self._last_refetch = self._clock()
            self._load(jwks_uri)
            return True

    def _load(self, jwks_uri: str) -> None:
        doc = self._http.get_json(jwks_uri, what="jwks")
        keys = doc.get("keys") if isinstance(doc, dict) else None
        if not isinstance(keys, list):  # {"keys": null}, a string, an object: no keys at all
            keys = []
        self._keys = [k for k in keys if isinstance(k, dict) and k.get("use", "sig") == "sig"]
        self._uri, self._fetched = jwks_uri, self._clock()

    def _match(self, kid: str | None, alg: str) -> dict[str, Any] | None:
        usable = [k for k in self._keys if _fits(k, alg)]
        if kid is not None:
            return next((k for k in usable if k.get("kid") == kid), None)
        # OIDC Core 10.1: with several keys in the set, the token must name its kid.
        return usable[0] if len(usable) == 1 and len(self._keys) == 1 else None


_FAMILIES = {"RSA": ("RS", "PS"), "EC": ("ES",), "OKP": ("EdDSA",)}


def _fits(jwk: dict[str, Any], alg: str) -> bool:
    """Whether a JWK may verify ``alg``: its declared ``alg`` or else its key type."""
    if alg not in ASYMMETRIC_ALGS:
        return False
    declared = jwk.get("alg")
    if declared:
        return declared == alg
    return alg.startswith(_FAMILIES.get(str(jwk.get("kty")), ("-",)))
