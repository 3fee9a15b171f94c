"""The few HTML pages our endpoints show: provider chooser, sign-in error, logout confirm."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from urllib.parse import urlencode

_STYLE = """
:root{color-scheme:light dark;--fg:#31333f;--bg:#fff;--muted:#6b6f7b;--accent:#ff4b4b;--card:#f0f2f6}
@media (prefers-color-scheme:dark){:root{--fg:#fafafa;--bg:#0e1117;--muted:#a3a8b8;--card:#262730}}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;
color:var(--fg);background:var(--bg);display:flex;min-height:100vh;align-items:center;justify-content:center}
main{width:min(26rem,92vw);padding:2rem;background:var(--card);border-radius:.75rem}
h1{font-size:1.4rem;margin:0 0 1rem}p{color:var(--muted)}
a.button,button{display:block;width:100%;margin:.5rem 0;padding:.7rem 1rem;border:1px solid var(--muted);
border-radius:.5rem;background:var(--bg);color:var(--fg);font:inherit;text-align:center;text-decoration:none;cursor:pointer}
a.button:hover,button:hover{border-color:var(--accent);color:var(--accent)}
"""


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def chooser_page(login_path: str, providers: Iterable[tuple[str, str]], next_path: str) -> str:
    """A button per provider: ``(name, display name)``."""
    buttons = "".join(
        f'<a class=button href="{escape(login_path)}?{escape(urlencode({"provider": name, "next": next_path}))}">'
        f"Continue with {escape(display)}</a>"
        for name, display in providers
    )
    return _page("Sign in", f"<h1>Sign in</h1>{buttons}")


def error_page(message: str, app_path: str, retry_path: str | None = None) -> str:
    retry = f'<a class=button href="{escape(retry_path)}">Try again</a>' if retry_path else ""
    return _page(
        "Sign-in problem",
        f"<h1>Sign-in problem</h1><p>{escape(message)}</p>{retry}"
        f'<a class=button href="{escape(app_path)}">Back to the app</a>',
    )


def logout_confirm_page(logout_path: str, xsrf_form_html: str, app_path: str) -> str:
    return _page(
        "Sign out",
        "<h1>Sign out?</h1><p>Another site sent you here. Sign out of the app?</p>"
        f'<form method=post action="{escape(logout_path)}">{xsrf_form_html}<button type=submit>Sign out</button></form>'
        f'<a class=button href="{escape(app_path)}">Stay signed in</a>',
    )
