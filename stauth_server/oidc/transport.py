"""Outbound HTTP to identity providers: JSON only, timeouts always, no secrets in errors."""

from __future__ import annotations

from typing import Any

import requests

from .errors import ProviderUnavailable

TIMEOUT = (5.0, 10.0)  # connect, read
MAX_BYTES = 1_000_000


class ProviderHTTP:
    """A small ``requests`` wrapper shared by the OIDC core (blocking: run it off the loop)."""

    def __init__(self, session: requests.Session | None = None):
        self._session = session or requests.Session()

    def get_json(self, url: str, *, headers: dict[str, str] | None = None, what: str) -> Any:
        return self._json(self._request("GET", url, headers=headers, what=what), what)

    def post_form(self, url: str, data: dict[str, str] | str, *, headers: dict[str, str] | None = None,
                  auth: tuple[str, str] | None = None, what: str) -> tuple[int, Any]:
        response = self._request("POST", url, data=data, headers=headers, auth=auth, what=what)
        return response.status_code, self._json(response, what, allow_error_status=True)

    def _request(self, method: str, url: str, *, what: str, **kwargs: Any) -> requests.Response:
        try:
            return self._session.request(method, url, timeout=TIMEOUT, allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            raise ProviderUnavailable(
                f"{what}: {method} {url} failed: {type(exc).__name__}",
                "The identity provider could not be reached. Try again in a moment.",
            ) from None

    @staticmethod
    def _json(response: requests.Response, what: str, *, allow_error_status: bool = False) -> Any:
        if len(response.content) > MAX_BYTES:
            raise ProviderUnavailable(f"{what}: answer over {MAX_BYTES} bytes", "The identity provider answered oddly.")
        if response.status_code >= 400 and not allow_error_status:
            raise ProviderUnavailable(
                f"{what}: HTTP {response.status_code} from {response.url}",
                "The identity provider answered with an error. Try again in a moment.",
            )
        try:
            return response.json()
        except ValueError:
            raise ProviderUnavailable(
                f"{what}: HTTP {response.status_code}, not JSON", "The identity provider answered oddly."
            ) from None
