"""The page the Assertion Consumer Service answers the IdP's cross-site POST with: it posts
the same ``SAMLResponse`` and ``RelayState`` again to the same ACS, from our own origin, so
that the browser sends our ``SameSite=Lax`` cookies (the login cookie) with it."""

from __future__ import annotations

from html import escape

#: The hidden field marking the re-POST: the ACS answers a marked post itself, never with
#: this page again (no loop).
REPOST_FIELD = "stauth_repost"


def saml_repost_page(action: str, saml_response: str, relay_state: str | None) -> str:
    """An auto-submitting form (a button without JavaScript) carrying the IdP's answer."""
    relay = (f'<input type=hidden name=RelayState value="{escape(relay_state)}">'
             if relay_state is not None else "")
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1"><title>Signing in</title></head>'
        f'<body><form id=saml method=post action="{escape(action)}">'
        f'<input type=hidden name=SAMLResponse value="{escape(saml_response)}">{relay}'
        f'<input type=hidden name={REPOST_FIELD} value=1>'
        "<noscript><p>Signing in. Continue to the app:</p><button type=submit>Continue</button></noscript>"
        "</form><script>document.getElementById('saml').submit()</script></body></html>"
    )


__all__ = ["REPOST_FIELD", "saml_repost_page"]
