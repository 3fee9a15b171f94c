"""Cross-site request checks for unsafe requests that carry ambient credentials (framework-neutral)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from ..core.errors import HTTPError
from .exchange import HttpRequest

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: The largest body an HTML form of ours posts (a password, a code, a token, the XSRF field).
MAX_FORM_BYTES = 16 * 1024
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


def refuse_cross_site(request: HttpRequest, *, xsrf_cookie: str | None = None, token_overrides: bool = False) -> None:
    """The one same-origin check of our endpoints: raises ``HTTPError(403)`` to refuse.

    The browser's word (``Sec-Fetch-Site``, else ``Origin``) decides when it gives one.
    When it gives none (a non-browser client, an old browser), the host's XSRF token
    matching its cookie vouches instead, if ``xsrf_cookie`` names that cookie; with
    ``token_overrides`` the token also outweighs a browser saying cross-site (sign-in
    forms, whose page embedded the token). Without ``xsrf_cookie`` only same-origin passes.
    """
    verdict = same_origin_verdict(request.header("Origin") or None, request.header("Sec-Fetch-Site") or None,
                                  request.scheme, request.host)
    if verdict is True:
        return
    if xsrf_cookie is not None and (verdict is None or token_overrides):
        from .xsrf import has_valid_xsrf_token

        if has_valid_xsrf_token(request, xsrf_cookie):
            return
    raise HTTPError(403, "Cross-site request refused")


def own_origin(origin: str | None, scheme: str, host: str, redirect_uri: str | None = None) -> bool | None:
    """Whether a websocket handshake's ``Origin`` is the app's own (as served, or as
    ``redirect_uri`` names it); None when it sent none.

    Browsers always send ``Origin`` on websockets: when present it alone decides. The
    host's XSRF token is not enough there, since a page on another port of the same host
    can read the XSRF cookie; it counts only for clients that send no ``Origin`` (the
    caller checks it). Streamlit's origin allow-list (any localhost port) never counts.
    """
    origin = (origin or "").strip().rstrip("/").lower()
    if not origin:
        return None
    own = {f"{scheme}://{host}".lower()}
    if redirect_uri:
        parts = urlsplit(redirect_uri)
        own.add(f"{parts.scheme}://{parts.netloc}".lower())
    return origin in own


def check_form_request(request: HttpRequest, *, xsrf_cookie: str | None,
                       methods: tuple[str, ...] = ("GET", "POST")) -> None:
    """What every endpoint behind one of our HTML forms checks first: the method is one of
    ``methods`` (else 405), and a POST comes from the app itself with its XSRF token (else
    403) and is at most ``MAX_FORM_BYTES`` (else 413)."""
    if request.method not in methods:
        raise HTTPError(405, "Method Not Allowed", headers={"Allow": ", ".join(methods)})
    if request.method == "POST":
        refuse_cross_site(request, xsrf_cookie=xsrf_cookie, token_overrides=True)
        if len(request.body) > MAX_FORM_BYTES:
            raise HTTPError(413, "Request too large")
