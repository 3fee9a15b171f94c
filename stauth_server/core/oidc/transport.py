"""Outbound HTTP to identity providers: JSON only, timeouts always, no secrets in errors."""

from __future__ import annotations

import json
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

    def get_json_and_max_age(self, url: str, *, what: str) -> tuple[Any, int | None]:
        """The JSON document and how long its ``Cache-Control: max-age`` says to keep it."""
        answer = self._request("GET", url, what=what)
        return self._json(answer, what), max_age(answer[0].headers.get("Cache-Control", ""))

    def post_form(self, url: str, data: dict[str, str] | str, *, headers: dict[str, str] | None = None,
                  auth: tuple[str, str] | None = None, what: str) -> tuple[int, Any]:
        answer = self._request("POST", url, data=data, headers=headers, auth=auth, what=what)
        return answer[0].status_code, self._json(answer, what, allow_error_status=True)

    def _request(self, method: str, url: str, *, what: str, **kwargs: Any) -> tuple[requests.Response, bytes]:
        """The response and its body, read no further than ``MAX_BYTES`` (streamed: a
        provider answering with gigabytes costs us one megabyte, not the memory)."""
        try:
            response = self._session.request(method, url, timeout=TIMEOUT, allow_redirects=False,
                                             stream=True, **kwargs)
            try:
                body = bytearray()
                for chunk in response.iter_content(65536):
                    body += chunk
                    if len(body) > MAX_BYTES:
                        raise ProviderUnavailable(f"{what}: answer over {MAX_BYTES} bytes",
                                                  "The identity provider answered oddly.")
            finally:
                response.close()
        except requests.RequestException as exc:
            raise ProviderUnavailable(
                f"{what}: {method} {url} failed: {type(exc).__name__}",
                "The identity provider could not be reached. Try again in a moment.",
            ) from None
        return response, bytes(body)

    @staticmethod
    def _json(answer: tuple[requests.Response, bytes], what: str, *, allow_error_status: bool = False) -> Any:
        response, body = answer
        if response.status_code >= 400 and not allow_error_status:
            raise ProviderUnavailable(
                f"{what}: HTTP {response.status_code} from {response.url}",
                "The identity provider answered with an error. Try again in a moment.",
            )
        try:
            return json.loads(body)
        except ValueError:
            raise ProviderUnavailable(
                f"{what}: HTTP {response.status_code}, not JSON", "The identity provider answered oddly."
            ) from None


def max_age(cache_control: str) -> int | None:
    """The ``max-age`` of a ``Cache-Control`` header, or None (absent, malformed, no-store)."""
    directives = [part.strip().lower() for part in cache_control.split(",")]
    if "no-store" in directives or "no-cache" in directives:
        return None
    for directive in directives:
        name, _, value = directive.partition("=")
        if name.strip() == "max-age" and value.strip().isdigit():
            return int(value.strip())
    return None
