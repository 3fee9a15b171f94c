"""The IdP's SAML metadata: read from a file, or fetched from its URL (timeout, size cap,
cached for an hour; a failed refresh keeps the last good copy)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..oidc.errors import ProviderUnavailable
from ..oidc.transport import ProviderHTTP
from .config import SamlProviderConfig
from .errors import SamlUnavailable

METADATA_TTL = 3600.0
#: After a failed fetch, the next try waits this long (the last good copy serves meanwhile).
RETRY_INTERVAL = 30.0
MAX_METADATA_BYTES = 1_000_000
UNAVAILABLE = "The identity provider's settings could not be loaded. Try again in a moment."


class IdpMetadata:
    """The IdP metadata XML of one provider (blocking on the first fetch: run it off the loop)."""

    def __init__(self, provider: SamlProviderConfig, http: ProviderHTTP | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.provider = provider
        self._http = http or ProviderHTTP()
        self._clock = clock
        self._lock = threading.Lock()
        self._xml: str | None = None
        self._fetched = float("-inf")
        self._failed = float("-inf")

    def is_fresh(self) -> bool:
        """Whether ``xml`` would answer from memory."""
        return self._xml is not None and (self.provider.idp_metadata_file is not None
                                          or self._clock() - self._fetched <= METADATA_TTL)

    def xml(self) -> str:
        """The metadata document; ``SamlUnavailable`` when there is none to be had."""
        with self._lock:
            if self.is_fresh():
                assert self._xml is not None
                return self._xml
            if self._xml is not None and self._clock() - self._failed < RETRY_INTERVAL:
                return self._xml
            try:
                self._xml = self._load()
                self._fetched = self._clock()
            except SamlUnavailable:
                self._failed = self._clock()
                if self._xml is None:
                    raise
            return self._xml

    def _load(self) -> str:
        path = self.provider.idp_metadata_file
        if path is not None:
            try:
                with path.open("rb") as handle:
                    body = handle.read(MAX_METADATA_BYTES + 1)
            except OSError as exc:
                raise SamlUnavailable(f"idp_metadata_file {path}: {exc.strerror}", UNAVAILABLE) from None
        else:
            url = self.provider.idp_metadata_url
            assert url is not None
            try:
                response, body = self._http._request(  # noqa: SLF001 - the shared capped, timed fetch
                    "GET", url, what="SAML IdP metadata", headers={"Accept": "application/samlmetadata+xml, */*"})
            except ProviderUnavailable as exc:
                raise SamlUnavailable(str(exc), UNAVAILABLE) from None
            if response.status_code != 200:
                raise SamlUnavailable(f"SAML IdP metadata: HTTP {response.status_code} from {url}", UNAVAILABLE)
        if len(body) > MAX_METADATA_BYTES:
            raise SamlUnavailable(f"SAML IdP metadata over {MAX_METADATA_BYTES} bytes", UNAVAILABLE)
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise SamlUnavailable("SAML IdP metadata is not UTF-8", UNAVAILABLE) from None
