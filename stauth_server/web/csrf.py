"""Cross-site request checks for unsafe requests that carry ambient credentials (framework-neutral)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: ``Authorization`` schemes a browser replays by itself once the user answered its prompt
#: (or, for Negotiate/NTLM, from the desktop sign-in), cross-site requests included.
AMBIENT_AUTH_SCHEMES = frozenset({"basic", "digest", "negotiate", "ntlm"})


def carries_ambient_credentials(headers: Mapping[str, str], identity_headers: Iterable[str] = ()) -> bool:
    """Whether a request carries a credential the browser attaches without the page asking.

    Such a request can be forged by any site the user visits, so an unsafe method needs
    proof that it came from the app itself. Ambient are:

    - a ``Cookie`` header;
    - a trusted proxy's identity headers (``identity_headers``, the ``[auth.proxy]`` names):
      the proxy adds them to every request of a signed-in browser, cross-site ones too.
      Their presence alone counts; sanitising has already removed them from untrusted peers;
    - ``Authorization`` with a scheme browsers cache and replay (Basic, Digest, Negotiate,
      NTLM): the app's handler may accept them, and a cross-site form post carries them.

    ``Authorization: Bearer`` (and any other scheme) is not ambient: only a script sets it,
    and a foreign page's script needs a CORS preflight that routes do not grant.
    """
    if (headers.get("Cookie") or "").strip():
        return True
    if any((headers.get(name) or "").strip() for name in identity_headers):
        return True
    scheme = (headers.get("Authorization") or "").strip().split(" ", 1)[0]
    return scheme.lower() in AMBIENT_AUTH_SCHEMES


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
