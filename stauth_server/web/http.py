"""Request and Response of the custom-endpoint API, free of any web framework."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

from ..core.errors import HTTPError
from ..core.identity import ANONYMOUS, User


class MultiMapping(Mapping[str, str]):
    """A read-only mapping where a key may have several values; ``m[k]`` is the last one."""

    __slots__ = ("_items", "_index", "_fold")

    def __init__(self, items: Iterable[tuple[str, str]], *, case_insensitive: bool = False):
        self._fold = case_insensitive
        self._items = list(items)
        self._index: dict[str, list[str]] | None = None   # built on first lookup

    @property
    def _lookup(self) -> dict[str, list[str]]:
        if self._index is None:
            index: dict[str, list[str]] = {}
            for key, value in self._items:
                index.setdefault(self._key(key), []).append(value)
            self._index = index
        return self._index

    def _key(self, key: str) -> str:
        return key.lower() if self._fold else key

    def __getitem__(self, key: str) -> str:
        values = self._lookup.get(self._key(key))
        if not values:
            raise KeyError(key)
        return values[-1]

    def get_all(self, key: str) -> list[str]:
        """Every value of ``key``, in order (empty when absent)."""
        return list(self._lookup.get(self._key(key), ()))

    def pairs(self) -> list[tuple[str, str]]:
        """Every (key, value) pair, in order, repeats included."""
        return list(self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(self._lookup)

    def __len__(self) -> int:
        return len(self._lookup)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._items!r})"


def parse_cookie_header(header: str) -> dict[str, str]:
    """Parse a ``Cookie`` request header leniently, the way browsers send it."""
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        name, sep, value = chunk.partition("=")
        name = name.strip()
        if not sep or not name:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        cookies.setdefault(name, value)
    return cookies


class Request:
    """One HTTP request to a custom endpoint, as a handler sees it.

    The body is read before the handler runs, so ``json()`` is a plain call in sync and
    async handlers alike.
    """

    def __init__(
        self,
        *,
        method: str,
        path: str,
        path_params: dict[str, str],
        query_string: str,
        headers: Iterable[tuple[str, str]],
        body: bytes,
        client_ip: str | None,
        user: User = ANONYMOUS,
        cookies: Mapping[str, str] | None = None,
    ):
        self.method = method
        self.path = path
        self.path_params: Mapping[str, str] = MappingProxyType(dict(path_params))
        self.body = body
        self.client_ip = client_ip
        self.user = user
        self._query_string = query_string
        self._header_items = headers
        self._query: MultiMapping | None = None
        # A MultiMapping (what the adapters hand over) is read-only: shared, not rebuilt.
        self._headers: MultiMapping | None = headers if isinstance(headers, MultiMapping) else None
        self._cookies = None if cookies is None else MappingProxyType(dict(cookies))

    @classmethod
    def for_route(cls, method: str, path: str, path_params: dict[str, str], query_string: str,
                  headers: MultiMapping, body: bytes, client_ip: str | None, user: User) -> Request:
        """What dispatch builds for each request: positional, ``path_params`` a fresh dict
        handed over (not copied), ``headers`` an adapter's read-only ``MultiMapping``."""
        request = cls.__new__(cls)
        request.method = method
        request.path = path
        request.path_params = MappingProxyType(path_params)
        request.body = body
        request.client_ip = client_ip
        request.user = user
        request._query_string = query_string
        request._header_items = headers
        request._query = None
        request._headers = headers
        request._cookies = None
        return request

    @property
    def query(self) -> MultiMapping:
        """Query parameters (read-only); ``query.get_all(name)`` for repeated ones."""
        if self._query is None:
            self._query = MultiMapping(parse_qsl(self._query_string, keep_blank_values=True))
        return self._query

    @property
    def headers(self) -> MultiMapping:
        """Request headers, case-insensitive (read-only)."""
        if self._headers is None:
            self._headers = MultiMapping(self._header_items, case_insensitive=True)
        return self._headers

    @property
    def cookies(self) -> Mapping[str, str]:
        """Cookies sent with the request (read-only)."""
        if self._cookies is None:
            merged: dict[str, str] = {}
            for header in self.headers.get_all("cookie"):
                for name, value in parse_cookie_header(header).items():
                    merged.setdefault(name, value)
            self._cookies = MappingProxyType(merged)
        return self._cookies

    @property
    def state(self) -> dict[str, Any]:
        """This request's scratch space: what an ``@sa.middleware`` stores, the handler reads."""
        try:
            return self._state
        except AttributeError:
            self._state: dict[str, Any] = {}
            return self._state

    def json(self) -> Any:
        """The body parsed as JSON; a malformed body answers 400."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deep
            raise HTTPError(400, "Malformed JSON body") from None

    def __repr__(self) -> str:
        return f"Request({self.method} {self.path})"


@dataclass
class Response:
    """An explicit response: body (str, bytes, dict/list for JSON, or None), status, headers."""

    body: Any = b""
    status: int = 200
    headers: Mapping[str, str] | None = None
    content_type: str | None = None


class RenderedResponse(NamedTuple):
    """What goes on the wire: status, header pairs and body bytes."""

    status: int
    headers: list[tuple[str, str]] = []
    body: bytes = b""


_encode_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
BYTES_TYPE = "application/octet-stream"


def _encode_body(body: Any) -> tuple[bytes, str | None]:
    if body is None:
        return b"", None
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body), BYTES_TYPE
    if isinstance(body, str):
        return body.encode("utf-8"), TEXT_TYPE
    if isinstance(body, (dict, list, tuple)):
        return _encode_json(body).encode("utf-8"), JSON_TYPE
    raise TypeError(
        f"a route handler returned {type(body).__name__}; return dict, list, str, bytes, "
        "None or sa.Response"
    )


def render(result: Any) -> RenderedResponse:
    """Turn what a handler returned into bytes on the wire (TypeError if unsupported)."""
    if type(result) is dict:  # the common case first
        return RenderedResponse(200, [("Content-Type", JSON_TYPE)], _encode_json(result).encode("utf-8"))
    if isinstance(result, Response):
        body, default_type = _encode_body(result.body)
        headers = [(str(k), str(v)) for k, v in (result.headers or {}).items()]
        content_type = result.content_type or default_type
        if content_type and not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", content_type))
        return RenderedResponse(int(result.status), headers, body)
    if result is None:
        return RenderedResponse(204)
    body, content_type = _encode_body(result)
    return RenderedResponse(200, [("Content-Type", content_type or BYTES_TYPE)], body)


#: What may go on the wire: a token as the name; tab, visible ASCII, space or obs-text
#: (0x80-0xff) in the value (RFC 9110 5.5), so never a CR/LF that would inject a header.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"[\x09\x20-\x7e\x80-\xff]*")
_SAFE_NAMES: set[str] = set()  # names already checked (bounded: see safe_header)


def safe_header(name: str, value: str) -> bool:
    """Whether ``name: value`` may be sent: both adapters refuse a response carrying another."""
    if name not in _SAFE_NAMES:
        if not _HEADER_NAME.fullmatch(name):
            return False
        if len(_SAFE_NAMES) < 256:
            _SAFE_NAMES.add(name)
    # Printable ASCII (the common case) is safe; anything else goes through the full rule.
    return (value.isascii() and value.isprintable()) or _HEADER_VALUE.fullmatch(value) is not None


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> RenderedResponse:
    """The one shape of every error our endpoints send: ``{"error": message}``."""
    body = json.dumps({"error": message}).encode("utf-8")
    extra = [(k, v) for k, v in (headers or {}).items()]
    return RenderedResponse(status, [("Content-Type", JSON_TYPE), *extra], body)


__all__ = [
    "MultiMapping",
    "Request",
    "Response",
    "RenderedResponse",
    "render",
    "error_response",
    "parse_cookie_header",
    "safe_header",
]
