"""Google's public keys for Firebase ID tokens: ``{kid: PEM certificate}`` from ``keys_url``,
kept as long as its ``Cache-Control: max-age`` says (as Firebase documents), fetched again
at most once a minute for a ``kid`` not yet known (key rotation)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from cryptography import x509

from ..oidc.errors import TokenRejected
from ..oidc.transport import ProviderHTTP

#: Kept this long when the answer names no max-age; and never longer than a day.
DEFAULT_MAX_AGE = 3600
LONGEST_MAX_AGE = 86400
#: An unknown kid fetches the keys again at most this often.
REFETCH_INTERVAL = 60.0


class FirebaseKeys:
    """The verification keys of one ``keys_url``."""

    def __init__(self, url: str, http: ProviderHTTP | None = None, clock: Callable[[], float] = time.monotonic):
        self.url = url
        self._http = http or ProviderHTTP()
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, Any] = {}
        self._until = 0.0
        self._last_refetch = -REFETCH_INTERVAL

    def key_for(self, kid: str | None) -> Any:
        """The public key of ``kid`` (blocks when the keys must be fetched), or ``TokenRejected``."""
        if not kid:
            raise TokenRejected("Firebase ID token: no kid")
        with self._lock:
            now = self._clock()
            if now >= self._until:
                self._load(now)
            elif kid not in self._keys and now - self._last_refetch >= REFETCH_INTERVAL:
                self._last_refetch = now  # a kid the cached keys lack: rotation, or a forgery
                self._load(now)
            key = self._keys.get(kid)
        if key is None:
            raise TokenRejected(f"Firebase ID token: no published key for kid={kid[:64]!r}")
        return key

    def _load(self, now: float) -> None:
        doc, max_age = self._http.get_json_and_max_age(self.url, what="Firebase keys")
        keys: dict[str, Any] = {}
        if isinstance(doc, dict):
            for kid, pem in doc.items():
                if isinstance(kid, str) and isinstance(pem, str):
                    try:
                        keys[kid] = x509.load_pem_x509_certificate(pem.encode("ascii")).public_key()
                    except (ValueError, UnicodeEncodeError):
                        continue  # one broken entry does not void the others
        self._keys = keys
        self._until = now + min(max_age if max_age is not None else DEFAULT_MAX_AGE, LONGEST_MAX_AGE)
