"""The few HTML pages our endpoints show: provider chooser, sign-in error, logout confirm."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from string import Template
from urllib.parse import urlencode

from ..core.avatars import avatar_data_url

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
label{display:block;margin:.75rem 0 .25rem;font-weight:600}
input,select{width:100%;padding:.65rem .8rem;border:1px solid var(--muted);border-radius:.5rem;background:var(--bg);
color:var(--fg);font:inherit}input:focus{outline:2px solid var(--accent);border-color:var(--accent)}
button.primary{margin-top:1.25rem;background:var(--accent);border-color:var(--accent);color:#fff;font-weight:600}
button.primary:hover{color:#fff;filter:brightness(1.08)}
.error{color:#ff4b4b;background:rgba(255,75,75,.1);padding:.5rem .75rem;border-radius:.5rem}
.or{text-align:center;margin:1rem 0 .25rem}
.brand{text-align:center;margin-bottom:1rem}.brand h1{margin:.25rem 0;overflow-wrap:anywhere}
.brand p{margin:0}.logo{display:block;margin:0 auto .5rem;max-width:100%;max-height:4rem}
a.button{display:flex;align-items:center;justify-content:center;gap:.6rem}.icon{width:1.5rem;height:1.5rem}
"""


def _page(title: str, body: str, extra_css: str = "") -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}{extra_css}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


@dataclass(frozen=True)
class Theme:
    """Colours of the app's theme (``[theme]`` in config.toml); None: follow the browser."""

    base: str | None = None
    primary: str | None = None

    def css(self) -> str:
        rules = []
        if self.primary:
            rules.append(f":root{{--accent:{escape(self.primary)}}}")
        if self.base == "dark":
            rules.append(":root{color-scheme:dark;--fg:#fafafa;--bg:#0e1117;--muted:#a3a8b8;--card:#262730}")
        elif self.base == "light":
            rules.append(":root{color-scheme:light;--fg:#31333f;--bg:#fff;--muted:#6b6f7b;--card:#f0f2f6}")
        return "".join(rules)


def login_page(login_path: str, providers: Iterable[tuple[str, str]], next_path: str, *,
               password_sources: Sequence[str], xsrf_form_html: str, error: str | None = None,
               username: str = "", theme: Theme = Theme(), template: str | None = None,
               source_chooser: bool = False, title: str = "Sign in", logo_url: str | None = None,
               firebase_html: str = "", forgot_path: str | None = None, notice: str | None = None,
               passkey_html: str = "") -> str:
    """Every way in: the app's name and logo, the password form (works without JS) and a
    button per provider.

    ``password_sources``: "local" and/or "ldap". One form tries them all; only with
    ``source_chooser`` (and two sources) does it let the user pick one. ``title`` and
    ``logo_url`` (a ``data:`` or http(s) URL) are the app's, escaped here.
    ``firebase_html``: the Firebase block (``web.firebase_page``), after the buttons.
    ``forgot_path``: where "Forgot your password?" leads (None: no such link); ``notice``:
    a status line above the form (the password was changed). ``passkey_html``: "Sign in with
    a passkey" (``web.passkey_page``), right after the password form.
    """
    buttons = "".join(
        f'<a class=button href="{escape(login_path)}?{escape(urlencode({"provider": name, "next": next_path}))}">'
        f'<img class=icon alt="" src="{avatar_data_url(name, display)}">Continue with {escape(display)}</a>'
        for name, display in providers
    )
    form = ""
    if password_sources:
        labels = {"local": "App account", "ldap": "Directory (LDAP)"}
        chooser = ""
        if source_chooser and len(password_sources) > 1:
            options = "".join(f'<option value="{escape(s)}">{escape(labels.get(s, s))}</option>' for s in password_sources)
            chooser = f'<label for=source>Sign in with</label><select id=source name=source>{options}</select>'

        alert = f'<p class=error role=alert id=form-error>{escape(error)}</p>' if error else ""
        described = ' aria-describedby=form-error' if error else ""
        form = (
            f'<form method=post action="{escape(login_path)}">{xsrf_form_html}'
            f'<input type=hidden name=next value="{escape(next_path)}">'
            f"{alert}{chooser}"
            f'<label for=username>Username</label><input id=username name=username autocomplete=username '
            f'required autocapitalize=none value="{escape(username)}"{described}>'
            f'<label for=password>Password</label><input id=password name=password type=password '
            f'autocomplete=current-password required{described}>'
            f'<button type=submit class=primary>Sign in</button></form>'
        )
        form += passkey_html
        if forgot_path:
            form += f'<p class=forgot><a href="{escape(forgot_path)}">Forgot your password?</a></p>'
        if notice:
            form = f'<p role=status class=notice>{escape(notice)}</p>{form}'

        if buttons or firebase_html:
            form = f"{form}<p class=or>or</p>"
    buttons += firebase_html
    logo = f'<img class=logo alt="{escape(title)}" src="{escape(logo_url)}">' if logo_url else ""
    if template is not None:
        # a custom page: $login_form is our form and buttons, $styles our stylesheet,
        # $app_title the app's name (escaped), $logo its logo (an <img>, or nothing)
        return Template(template).safe_substitute(login_form=form + buttons, styles=_STYLE + theme.css(),
                                                  app_title=escape(title), logo=logo)
    lead = "<p>Sign in to continue</p>" if title != "Sign in" else ""
    brand = f"<header class=brand>{logo}<h1>{escape(title)}</h1>{lead}</header>"
    page_title = "Sign in" if title == "Sign in" else f"Sign in · {title}"
    return _page(page_title, f"{brand}{form}{buttons}", extra_css=theme.css())


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


def account_page(action: str, app_path: str, *, name: str, username: str, provider_label: str | None,
                 xsrf_form_html: str, min_length: int, error: str | None = None, notice: str | None = None,
                 theme: Theme = Theme(), sections: Sequence[str] = ()) -> str:
    """``/auth/account``: who is signed in and, for a local account, the password change
    form. ``provider_label``: the provider that manages an account kept elsewhere (no form).
    ``sections``: more of the local account's parts (second factor, passkeys), each an
    HTML fragment its own module renders and escapes, shown after the password form."""
    head = f"<header class=brand><h1>Your account</h1><p>Signed in as {escape(name)}</p></header>"
    if provider_label is not None:
        body = (f"<p>Your account is managed by {escape(provider_label)}: change your password there.</p>"
                f'<a class=button href="{escape(app_path)}">Back to the app</a>')
        return _page("Your account", head + body, extra_css=theme.css())
    alert = f'<p class=error role=alert id=form-error>{escape(error)}</p>' if error else ""
    done = f'<p role=status class=notice>{escape(notice)}</p>' if notice else ""
    form = (
        f'<form method=post action="{escape(action)}">{xsrf_form_html}{alert}{done}'
        "<h2>Change password</h2>"
        f'<input type=hidden name=username autocomplete=username value="{escape(username)}">'
        "<label for=current>Current password</label>"
        "<input id=current name=current_password type=password autocomplete=current-password required>"
        "<label for=new>New password</label>"
        f"<input id=new name=new_password type=password autocomplete=new-password required minlength={min_length}>"
        f"<p>At least {min_length} characters; not a common password. Your other sessions end.</p>"
        "<button type=submit class=primary>Change password</button></form>"
        + "".join(sections)
        + f'<a class=button href="{escape(app_path)}">Back to the app</a>'
    )
    return _page("Your account", head + form, extra_css=theme.css() + "h2{font-size:1.1rem}.notice{color:inherit}")
