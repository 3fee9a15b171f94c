"""``server.allowedHosts``: which ``Host`` headers our endpoints answer (DNS-rebinding guard)."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit


def host_allowed(host: str | None, allowed: Sequence[str]) -> bool:
    """Whether ``host`` (a ``Host`` header, port ignored) is in ``allowed``.

    An empty list allows every host (Streamlit's default). Entries are exact names,
    ``*.example.com`` (any subdomain of example.com) or ``*``. A header that is not a
    plain ``name[:port]`` (user info, a path, a bad port) is never allowed.
    """
    if not allowed:
        return True
    if not host:
        return False
    try:
        parts = urlsplit("//" + host)
        name, _port = parts.hostname, parts.port
    except ValueError:
        return False
    if not name or "@" in host or parts.path or parts.query or parts.fragment:
        return False
    name = name.lower().rstrip(".")
    for entry in allowed:
        wanted = entry.strip().lower().rstrip(".")
        if wanted == "*" or name == wanted or (wanted.startswith("*.") and name.endswith(wanted[1:])):
            return True
    return False
