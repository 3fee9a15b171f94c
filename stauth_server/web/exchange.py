"""The framework-neutral exchange our endpoints speak: ``HttpRequest`` in, ``HttpResponse`` out.

An adapter (Tornado today, Starlette next) builds the request from its own, calls an
endpoint ``async (request, ctx) -> HttpResponse`` and writes the response back. Arguments
(query and form) arrive as raw bytes per name and are decoded here, once, the same way
for every adapter: UTF-8 (else 400), control characters blanked, surrounding space stripped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..core.errors import HTTPError
from .http import MultiMapping, RenderedResponse, parse_cookie_header

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f]")


def decode_argument(value: bytes, name: str) -> str:
    """One query or form value as text (400 on invalid UTF-8, as Tornado answers)."""
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPError(400, "Invalid unicode in {}: {!r}".format(name, value[:40])) from None
    return _CONTROL_CHARS.sub(" ", text).strip()


class Arguments:
    """Query or form arguments: raw bytes per name, decoded on access."""

    __slots__ = ("_raw",)

    def __init__(self, raw: Mapping[str, Iterable[bytes]] | None = None):
        self._raw = {name: list(values) for name, values in (raw or {}).items()}

    @classmethod
    def wrapping(cls, raw: Mapping[str, list[bytes]]) -> Arguments:
        """Arguments over a server's own parsed dict, not copied (neither side changes it)."""
        arguments = cls.__new__(cls)
        arguments._raw = raw  # type: ignore[assignment]
        return arguments

    def names(self) -> list[str]:
        return list(self._raw)

    def get_all(self, name: str) -> list[str]:
        return [decode_argument(value, name) for value in self._raw.get(name, ())]

    def get(self, name: str, default: str | None = None) -> str | None:
        """The last value of ``name`` (decoded), or ``default``."""
        values = self._raw.get(name)
        return decode_argument(values[-1], name) if values else default

    def last_values(self) -> dict[str, str]:
        """Every name with its last value (decoded)."""
        return {name: decode_argument(values[-1], name) for name, values in self._raw.items() if values}

    def __contains__(self, name: object) -> bool:
        return name in self._raw


#: Shared empty values (read-only: nothing writes to a request's arguments or parameters).
_NO_ARGUMENTS = Arguments.wrapping(MappingProxyType({}))  # type: ignore[arg-type]
_NO_PARAMS: Mapping[str, str] = MappingProxyType({})


class CookieHeaders(Mapping[str, str]):
    """The cookies of ``Cookie`` headers (their values, or a request's header mapping),
    parsed on first use (the first cookie of a name wins)."""

    __slots__ = ("_headers", "_parsed")

    def __init__(self, headers: Iterable[str] | MultiMapping):
        self._headers = headers
        self._parsed: dict[str, str] | None = None

    def _cookies(self) -> dict[str, str]:
        if self._parsed is None:
            merged: dict[str, str] = {}
            values = self._headers.get_all("cookie") if isinstance(self._headers, MultiMapping) else self._headers
            for header in values:
                for name, value in parse_cookie_header(header).items():
                    merged.setdefault(name, value)
            self._parsed = merged
        return self._parsed

    def __getitem__(self, name: str) -> str:
        return self._cookies()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._cookies())

    def __len__(self) -> int:
        return len(self._cookies())


class HttpRequest:
    """What an endpoint reads of a request, whichever server received it.

    ``client_ip`` is the client as trusted (a trusted proxy's ``X-Forwarded-For`` applied);
    ``peer`` the TCP peer; ``scheme``/``host`` as served (a trusted proxy's applied);
    ``path_params``: values the adapter's routing took from the path (``{"token": ...}``).
    A plain class with slots, not a dataclass: one is built per request, so its
    construction is kept cheap.
    """

    __slots__ = ("method", "path", "query_string", "headers", "cookies", "body", "query", "form",
                 "client_ip", "peer", "scheme", "host", "path_params")

    def __init__(self, method: str, path: str, query_string: str = "", headers: MultiMapping | None = None,
                 cookies: Mapping[str, str] | None = None, body: bytes = b"", query: Arguments | None = None,
                 form: Arguments | None = None, client_ip: str | None = None, peer: str | None = None,
                 scheme: str = "http", host: str = "", path_params: Mapping[str, str] | None = None) -> None:
        self.method = method
        self.path = path
        self.query_string = query_string
        self.headers: MultiMapping = MultiMapping((), case_insensitive=True) if headers is None else headers
        if type(cookies) is not CookieHeaders and type(cookies) is not MappingProxyType:
            cookies = MappingProxyType(dict(cookies or {}))
        self.cookies: Mapping[str, str] = cookies
        self.body = body
        self.query = _NO_ARGUMENTS if query is None else query
        self.form = _NO_ARGUMENTS if form is None else form
        self.client_ip = client_ip
        self.peer = peer
        self.scheme = scheme
        self.host = host
        self.path_params: Mapping[str, str] = _NO_PARAMS if path_params is None else path_params

    def __repr__(self) -> str:
        return f"HttpRequest({self.method} {self.path})"

    @property
    def uri(self) -> str:
        """The path and query as the client sent them."""
        return self.path + (f"?{self.query_string}" if self.query_string else "")

    @property
    def secure(self) -> bool:
        return self.scheme == "https"

    def header(self, name: str, default: str = "") -> str:
        """A header's value; several of the same name are joined with ',' (as Tornado does)."""
        return ",".join(self.headers.get_all(name)) or default

    @property
    def joined_headers(self) -> MultiMapping:
        """Every header once, repeated ones joined with ','."""
        names: dict[str, str] = {}
        for name, _ in self.headers.pairs():
            names.setdefault(name.lower(), name)
        return MultiMapping(((name, self.header(name)) for name in names.values()), case_insensitive=True)

    def accepts_html(self) -> bool:
        """A browser navigating (``Accept: text/html``), not an API client."""
        return "text/html" in self.header("Accept")


@dataclass
class HttpResponse:
    """Status, header pairs (``Set-Cookie`` may repeat) and body bytes."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def set_header(self, name: str, value: str) -> HttpResponse:
        """Set ``name`` (replacing earlier values)."""
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        self.headers.append((name, value))
        return self

    def add_header(self, name: str, value: str) -> HttpResponse:
        self.headers.append((name, value))
        return self

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return values[-1] if values else None

    @property
    def is_redirect(self) -> bool:
        return 300 <= self.status < 400 and self.header("Location") is not None

    @classmethod
    def of(cls, rendered: RenderedResponse) -> HttpResponse:
        """The response for a rendered one. Its header list is taken over, not copied: every
        ``RenderedResponse`` with headers is built with a list of its own (an empty one may be
        the class default, shared, so it is copied)."""
        headers = rendered.headers if type(rendered.headers) is list and rendered.headers else list(rendered.headers)
        return cls(rendered.status, headers, rendered.body)

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> HttpResponse:
        return cls(status, [("Location", location)])

    @classmethod
    def html(cls, page: str, status: int = 200) -> HttpResponse:
        return cls(status, [("Content-Type", "text/html; charset=utf-8")], page.encode("utf-8"))


__all__ = ["Arguments", "HttpRequest", "HttpResponse", "decode_argument"]
