"""The pages of invitation and password-reset links: "forgot your password?", the answer
every request gets, the set-a-password form, and the one page for a refused link."""

from __future__ import annotations

from html import escape

from .pages import Theme, _page

#: The answer to every forgot-password request, whether an account exists or not.
RESET_REQUESTED = ("If an account exists for what you entered, we sent a link to its e-mail address. "
                   "The link works once, for 30 minutes.")
_CSS = ".notice{color:inherit}"


def _alert(error: str | None) -> str:
    return f'<p class=error role=alert id=form-error>{escape(error)}</p>' if error else ""


def forgot_page(action: str, login_path: str, xsrf_form_html: str, *, error: str | None = None,
                identifier: str = "", theme: Theme = Theme()) -> str:
    """``GET /auth/forgot``: asks for the username or e-mail address."""
    body = (
        "<header class=brand><h1>Forgot your password?</h1>"
        "<p>Enter your username or e-mail address: we send a link to set a new password.</p></header>"
        f'<form method=post action="{escape(action)}">{xsrf_form_html}{_alert(error)}'
        "<label for=identifier>Username or e-mail</label>"
        f'<input id=identifier name=identifier autocomplete=username required autocapitalize=none '
        f'maxlength=254 value="{escape(identifier)}">'
        "<button type=submit class=primary>Send me a link</button></form>"
        f'<a class=button href="{escape(login_path)}">Back to sign-in</a>'
    )
    return _page("Forgot your password?", body, extra_css=theme.css())


def reset_requested_page(login_path: str, *, theme: Theme = Theme()) -> str:
    """The answer to every forgot-password request: the same bytes for every account or none."""
    body = (
        "<header class=brand><h1>Check your e-mail</h1></header>"
        f"<p role=status class=notice>{escape(RESET_REQUESTED)}</p>"
        f'<a class=button href="{escape(login_path)}">Back to sign-in</a>'
    )
    return _page("Check your e-mail", body, extra_css=theme.css() + _CSS)


def set_password_page(action: str, token: str, *, title: str, lead: str, button: str, username: str,
                      xsrf_form_html: str, min_length: int, error: str | None = None,
                      theme: Theme = Theme()) -> str:
    """The form a valid link opens: one new password (the token travels in the form, not the URL)."""
    described = " aria-describedby=form-error" if error else ""
    body = (
        f"<header class=brand><h1>{escape(title)}</h1><p>{escape(lead)}</p></header>"
        f'<form method=post action="{escape(action)}">{xsrf_form_html}{_alert(error)}'
        f'<input type=hidden name=token value="{escape(token)}">'
        f'<input type=hidden name=username autocomplete=username value="{escape(username)}">'
        f"<p>Account: <strong>{escape(username)}</strong></p>"
        "<label for=new>New password</label>"
        f"<input id=new name=new_password type=password autocomplete=new-password required "
        f"minlength={min_length}{described}>"
        f"<p>At least {min_length} characters; not a common password.</p>"
        f"<button type=submit class=primary>{escape(button)}</button></form>"
    )
    return _page(title, body, extra_css=theme.css())


def invalid_link_page(message: str, login_path: str, forgot_path: str | None, *, theme: Theme = Theme()) -> str:
    """A refused link, whatever the reason (unknown, used, expired, password changed)."""
    again = f'<a class=button href="{escape(forgot_path)}">Ask for a new link</a>' if forgot_path else ""
    body = (
        f"<header class=brand><h1>Link not valid</h1></header><p>{escape(message)}</p>{again}"
        f'<a class=button href="{escape(login_path)}">Back to sign-in</a>'
    )
    return _page("Link not valid", body, extra_css=theme.css())


__all__ = ["RESET_REQUESTED", "forgot_page", "invalid_link_page", "reset_requested_page", "set_password_page"]
