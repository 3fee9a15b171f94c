"""The HTML of the TOTP second factor: the sign-in code step, enrolment (QR code, secret,
confirming code), the recovery codes shown once, and the account page's section.

Every value is escaped here. The QR code is an inline SVG drawn by segno on the server:
the page makes no request anywhere else, and the secret never leaves it in a URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import segno

from ..core.accounts.totp import otpauth_uri
from .pages import Theme, _page

_CSS = (
    "h2{font-size:1.1rem}.notice{color:inherit}.qr{display:block;margin:.5rem auto;background:#fff;"
    "padding:.25rem;border-radius:.25rem;max-width:100%;height:auto}"
    ".secret{font-family:ui-monospace,monospace;overflow-wrap:anywhere;color:inherit}"
    ".codes{font-family:ui-monospace,monospace;columns:2;padding-left:1.25rem;color:inherit}"
)
DEFAULT_ISSUER = "streamlit-auth"


def issuer_name(app_title: str) -> str:
    """The name authenticator apps show: the app's title, else ``streamlit-auth``."""
    title = " ".join(app_title.replace(":", " ").split())[:64]
    return title if title and title != "Sign in" else DEFAULT_ISSUER


def qr_svg(uri: str) -> str:
    """``uri`` as an inline SVG QR code (dark on white, whatever the theme)."""
    return segno.make(uri, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff", svgclass="qr",
                                                 title="QR code for your authenticator app")


def _code_field(label: str = "Code from your authenticator app", *, recovery: bool = False) -> str:
    hint = "<p>Or one of your recovery codes (each works once).</p>" if recovery else ""
    pattern = "" if recovery else " pattern=\"[0-9 ]{6,7}\" maxlength=7"
    return (f"<label for=totp-code>{escape(label)}</label>"
            f"<input id=totp-code name=code autocomplete=one-time-code inputmode=numeric required"
            f" autocapitalize=none spellcheck=false{pattern}>{hint}")


def _alert(error: str | None) -> str:
    return f"<p class=error role=alert id=form-error>{escape(error)}</p>" if error else ""


def enrolment_block(action: str, xsrf_form_html: str, *, secret: str, sealed: str, username: str, issuer: str,
                    error: str | None = None, hidden: Sequence[tuple[str, str]] = (),
                    ask_password: bool = False) -> str:
    """The set-up form: QR code, the secret as text and its ``otpauth://`` link, a code field;
    with ``ask_password`` (the account page), the current password too."""
    uri = otpauth_uri(secret, account_name=username.replace(":", " "), issuer=issuer)
    fields = "".join(f'<input type=hidden name="{escape(n)}" value="{escape(v)}">' for n, v in hidden)
    password = (f'<input type=hidden name=username autocomplete=username value="{escape(username)}">'
                "<label for=totp-enrol-password>Current password</label>"
                "<input id=totp-enrol-password name=password type=password autocomplete=current-password required>"
                if ask_password else "")
    return (
        f'<form method=post action="{escape(action)}" class=enrol>{xsrf_form_html}{fields}'
        f'<input type=hidden name=action value=enrol><input type=hidden name=candidate value="{escape(sealed)}">'
        "<h2>Set up two-factor authentication</h2>"
        f"{_alert(error)}"
        "<p>Scan this QR code with an authenticator app, or type the key in it.</p>"
        f"{qr_svg(uri)}"
        f'<p>Key: <code class=secret id=totp-secret>{escape(secret)}</code></p>'
        f'<p><a id=totp-link href="{escape(uri)}">Open in an authenticator app on this device</a></p>'
        f"{_code_field('Code shown by the app')}{password}"
        "<button type=submit class=primary>Turn on two-factor authentication</button></form>"
    )


def recovery_codes_block(codes: Sequence[str]) -> str:
    """The ten recovery codes, shown this once."""
    items = "".join(f"<li>{escape(code)}</li>" for code in codes)
    return ("<h2>Your recovery codes</h2>"
            "<p role=status class=notice>Two-factor authentication is on. Save these recovery codes somewhere "
            "safe now: each one signs you in once without your app, and they will not be shown again.</p>"
            f"<ol class=codes id=recovery-codes>{items}</ol>")


def disable_block(action: str, xsrf_form_html: str, *, username: str, recovery_left: int,
                  error: str | None = None) -> str:
    """The account page's section once a second factor is on: turning it off."""
    return (
        f'<form method=post action="{escape(action)}" class=disable>{xsrf_form_html}'
        "<input type=hidden name=action value=disable>"
        "<h2>Two-factor authentication</h2>"
        f"{_alert(error)}"
        f"<p>On. {recovery_left} recovery code{'s' if recovery_left != 1 else ''} left.</p>"
        f'<input type=hidden name=username autocomplete=username value="{escape(username)}">'
        "<label for=totp-password>Password</label>"
        "<input id=totp-password name=password type=password autocomplete=current-password required>"
        f"{_code_field(recovery=True)}"
        "<button type=submit>Turn off two-factor authentication</button></form>"
    )


def code_page(action: str, xsrf_form_html: str, *, error: str | None = None, restart_path: str,
              theme: Theme = Theme()) -> str:
    """The second sign-in step: the 6-digit code, or a recovery code."""
    body = (
        "<header class=brand><h1>Two-factor authentication</h1>"
        "<p>Enter the code from your authenticator app</p></header>"
        f'<form method=post action="{escape(action)}">{xsrf_form_html}{_alert(error)}'
        "<input type=hidden name=action value=code>"
        f"{_code_field('Code', recovery=True)}"
        "<button type=submit class=primary>Continue</button></form>"
        f'<a class=button href="{escape(restart_path)}">Start again</a>'
    )
    return _page("Two-factor authentication", body, extra_css=theme.css() + _CSS)


def enrol_page(enrolment_html: str, *, restart_path: str, theme: Theme = Theme()) -> str:
    """The mandatory set-up step of a sign-in (``[auth.local] require_second_factor``)."""
    body = (
        "<header class=brand><h1>Two-factor authentication required</h1>"
        "<p>This account must use a second factor. Set it up to continue.</p></header>"
        f"{enrolment_html}"
        f'<a class=button href="{escape(restart_path)}">Start again</a>'
    )
    return _page("Set up two-factor authentication", body, extra_css=theme.css() + _CSS)


def codes_page(codes: Sequence[str], continue_path: str, *, continue_label: str = "Continue",
               theme: Theme = Theme()) -> str:
    """After enrolment: the recovery codes once, and the way on."""
    body = (f"{recovery_codes_block(codes)}"
            f'<a class=button id=continue href="{escape(continue_path)}">{escape(continue_label)}</a>')
    return _page("Your recovery codes", body, extra_css=theme.css() + _CSS)


def account_form_page(section_html: str, account_path: str, *, theme: Theme = Theme()) -> str:
    """A refused account-page TOTP form again, on its own page, with the way back."""
    body = (f"<header class=brand><h1>Your account</h1></header>{section_html}"
            f'<a class=button href="{escape(account_path)}">Back to your account</a>')
    return _page("Your account", body, extra_css=theme.css() + _CSS)


__all__ = ["account_form_page", "code_page", "codes_page", "disable_block", "enrol_page", "enrolment_block",
           "issuer_name", "qr_svg", "recovery_codes_block"]
