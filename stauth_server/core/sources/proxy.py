"""Identity from a trusted reverse proxy (oauth2-proxy, Pomerium, IAP style).

The proxy signs the user in and passes who they are in headers. Those headers, and
``X-Forwarded-For/-Proto/-Host``, count only when the TCP peer is a trusted proxy; from
anyone else they are removed before the app or any handler sees them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

FORWARDED_HEADERS = ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Forwarded")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_WITH_PORT = re.compile(r"\[(?P<v6>[^\[\]]+)\](?::[0-9]{1,5})?|(?P<v4>[0-9.]+):[0-9]{1,5}")


@dataclass(frozen=True)
class ProxyConfig:
    """``[auth.proxy]``: trusted peers and the names of the identity headers."""

    trusted: tuple[Network, ...]
    user_header: str = "X-Forwarded-User"
    email_header: str = "X-Forwarded-Email"
    groups_header: str = "X-Forwarded-Groups"
    username_header: str = "X-Forwarded-Preferred-Username"
    name_header: str = ""

    @property
    def identity_headers(self) -> tuple[str, ...]:
        return tuple(h for h in (self.user_header, self.email_header, self.groups_header,
                                 self.username_header, self.name_header) if h)

    def trusts(self, peer: str | None) -> bool:
        if not peer:
            return False
        try:
            address = ipaddress.ip_address(peer.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.trusted)

    def claims_from(self, headers: Mapping[str, str]) -> dict[str, Any] | None:
        """The identity the proxy asserted, or None when it sent no user."""
        user = (headers.get(self.user_header) or "").strip()
        if not user:
            return None
        claims: dict[str, Any] = {"sub": user, "preferred_username": user}
        email = (headers.get(self.email_header) or "").strip()
        if email:
            claims.update(email=email, email_verified=True)
        username = (headers.get(self.username_header) or "").strip()
        if username:
            claims["preferred_username"] = username
        if self.name_header and (headers.get(self.name_header) or "").strip():
            claims["name"] = headers[self.name_header].strip()
        groups = [g.strip() for g in (headers.get(self.groups_header) or "").split(",") if g.strip()]
        if groups:
            claims["groups"] = groups
        return claims


def hop_address(hop: str) -> str | None:
    """One ``X-Forwarded-For`` element as a normalised IP address, None when it is not one.

    Besides bare addresses it accepts the ``host:port`` forms some proxies append (Azure
    Application Gateway, RFC 7239 style): ``1.2.3.4:5678``, ``[2001:db8::1]:80`` and
    ``[2001:db8::1]``, with a port of up to five digits. The port is dropped and an
    IPv4-mapped IPv6 address becomes IPv4, so one client has one spelling. ``unknown``,
    obfuscated names (``_hidden``), empty elements and everything else are None.
    """
    text = hop.strip()
    with_port = _WITH_PORT.fullmatch(text)
    if with_port:
        text = with_port["v6"] or with_port["v4"]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if with_port and with_port["v6"] and address.version != 6:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def client_address(forwarded_for: str | None, proxy: ProxyConfig) -> str | None:
    """The client's address from a trusted peer's ``X-Forwarded-For``, or None to keep the peer's.

    Each proxy appends the address it saw, so only the right end of the chain is written by
    proxies we trust; anything to the left of the first untrusted hop may be the client's own
    invention. The walk goes right to left past trusted proxies and stops at the first other
    element, which decides:

    - a well-formed untrusted address is the client;
    - an unparsable element (``unknown``, empty, ...) ends the walk with None: the trusted
      proxy that wrote it did not name its client, and what lies further left was written
      by hops nobody vouches for;
    - a chain of trusted addresses only also gives None: a client inside a trusted range is
      indistinguishable from a proxy, and its leftmost entry could be its own choice.

    Several ``X-Forwarded-For`` lines arrive joined by commas in order (Tornado and RFC 9110
    agree), so a proxy appending a new line is still the rightmost element.
    """
    if forwarded_for is None or not forwarded_for.strip():
        return None
    for hop in reversed(forwarded_for.split(",")):
        address = hop_address(hop)
        if address is None:
            return None
        if not proxy.trusts(address):
            return address
    return None


def nearest_value(forwarded: str | None) -> str:
    """What the nearest proxy put in a comma-joined ``X-Forwarded-Proto``/``-Host``: the
    rightmost element, stripped ("" when absent). Elements further left came from farther
    hops or from the client itself, which a proxy that appends instead of replacing passes on.
    """
    return (forwarded or "").rsplit(",", 1)[-1].strip()


def parse_proxy(table: object) -> ProxyConfig | None:
    """``[auth.proxy]`` validated; ConfigError names the key."""
    if table is None:
        return None
    if not isinstance(table, Mapping):
        raise ConfigError("[auth.proxy]: expected a table with trusted_proxies = [\"10.0.0.0/8\", ...]")
    raw = table.get("trusted_proxies")
    if not isinstance(raw, (list, tuple)) or not raw:
        raise ConfigError("[auth.proxy] trusted_proxies: expected a non-empty list of addresses or CIDRs")
    networks: list[Network] = []
    for item in raw:
        try:
            networks.append(ipaddress.ip_network(str(item), strict=False))
        except ValueError:
            raise ConfigError(f"[auth.proxy] trusted_proxies: {item!r} is not an IP address or CIDR") from None
    names: dict[str, str] = {}
    for key in ("user_header", "email_header", "groups_header", "username_header", "name_header"):
        value = table.get(key)
        if value is not None:
            if not isinstance(value, str) or not value.strip() or any(c in value for c in " :\r\n"):
                raise ConfigError(f"[auth.proxy] {key}: expected a header name, got {value!r}")
            names[key] = value.strip()
    return ProxyConfig(trusted=tuple(networks), **names)


def strip_headers(headers: Any, names: Iterable[str]) -> None:
    """Remove ``names`` from a mutable headers object (Tornado's HTTPHeaders)."""
    for name in names:
        if name in headers:
            del headers[name]
