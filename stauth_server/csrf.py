"""Cross-site request checks for cookie-carrying unsafe requests (framework-neutral)."""

from __future__ import annotations

from urllib.parse import urlsplit

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _origin_of(url: str) -> tuple[str, str] | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    return parts.scheme.lower(), parts.netloc.lower()


def _default_port(scheme: str, netloc: str) -> str:
    if ":" in netloc.rsplit("]", 1)[-1]:
        return netloc
    return f"{netloc}:{443 if scheme == 'https' else 80}"


def same_origin_verdict(origin: str | None, sec_fetch_site: str | None, scheme: str, host: str) -> bool | None:
    """True when the browser says the request is same-origin, False when it says it is not.

    None when neither ``Origin`` nor ``Sec-Fetch-Site`` was sent (a non-browser client,
    or an old browser): the caller then needs another proof, such as the XSRF token.
    """
    if sec_fetch_site:
        # Set by the browser itself (page scripts cannot forge it) and right behind a
        # TLS-terminating proxy, where our own idea of the scheme may be wrong.
        return sec_fetch_site.strip().lower() == "same-origin"
    if origin:
        if origin.strip().lower() == "null":
            return False
        parsed = _origin_of(origin.strip())
        if parsed is None:
            return False
        origin_scheme, origin_netloc = parsed
        if origin_scheme != scheme.lower():
            return False
        return _default_port(origin_scheme, origin_netloc) == _default_port(scheme.lower(), host.lower())
    return None
