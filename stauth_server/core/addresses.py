"""Whether an address is this computer only: the one rule for every "loopback only" check."""

from __future__ import annotations

import ipaddress


def is_loopback(address: str | None) -> bool:
    """Whether ``address`` (a host or ``server.address``) is this computer only: localhost,
    127.0.0.0/8, ::1 (also IPv4-mapped). Unset means every interface; a host name other than
    localhost, or a unix socket (there for a proxy in front), counts as reachable from elsewhere.
    """
    host = (address or "").strip().removeprefix("[").removesuffix("]")
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback
