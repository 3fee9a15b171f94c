"""Identity from a trusted reverse proxy (oauth2-proxy, Pomerium, IAP style).

The proxy signs the user in and passes who they are in headers. Those headers, and
``X-Forwarded-For/-Proto/-Host``, count only when the TCP peer is a trusted proxy; from
anyone else they are removed before the app or any handler sees them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

FORWARDED_HEADERS = ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Forwarded")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


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


def client_address(forwarded_for: str | None, trusted: ProxyConfig) -> str | None:
    """The client's address from ``X-Forwarded-For``: the last hop that is not a trusted proxy."""
    hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not trusted.trusts(hop):
            return hop
    return hops[0] if hops else None


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
