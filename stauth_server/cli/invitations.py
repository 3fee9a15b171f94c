"""``streamlit-auth users invite``: a new account that its owner activates through a link.

The link is built from the app's ``[auth] redirect_uri`` and e-mailed through its
``[auth.smtp]`` when it has one; it is printed either way. The app is the one in the
current folder, or ``--app APP.py``: its ``.streamlit/secrets.toml`` beside it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import click

from ..core.accounts.link_service import app_name
from ..core.accounts.links import LINK_LIFETIMES, INVITE
from ..core.accounts.mail import MailError, SmtpMailer, invitation_message, parse_smtp
from ..core.accounts.recovery_flows import InvitationError, invite as invite_account
from ..core.errors import ConfigError
from ..core.login_branding import resolve_branding
from .users import _audit, _load, _open_audit_file

EXAMPLE_REDIRECT_URI = "https://app.example.org/oauth2callback"


def _app_auth(app: str | None) -> tuple[Path, Path | None, dict[str, Any], Path]:
    """The app's folder, its script (when known), its ``[auth]`` table and where that was read."""
    if app is not None:
        script: Path | None = Path(app).resolve()
        if not script.is_file():
            raise click.ClickException(f"--app {app}: no such file")
        app_dir = script.parent
    else:
        app_dir = Path.cwd()
        script = app_dir / "streamlit_app.py" if (app_dir / "streamlit_app.py").is_file() else None
    secrets = app_dir / ".streamlit" / "secrets.toml"
    if not secrets.is_file():
        raise click.ClickException(f"{secrets}: no such file. Invitation links are built from the app's "
                                   f"[auth] redirect_uri: run this in the app's folder, or give --app APP.py")
    try:
        auth = tomllib.loads(secrets.read_text(encoding="utf-8")).get("auth", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise click.ClickException(f"{secrets}: cannot be read ({exc})") from None
    if not isinstance(auth, dict):
        raise click.ClickException(f"{secrets}: [auth] must be a table")
    return app_dir, script, auth, secrets


def _check_users_file(file: str, auth: dict[str, Any], app_dir: Path) -> None:
    local = auth.get("local")
    configured = local.get("users_file") if isinstance(local, dict) else None
    if isinstance(configured, str) and (app_dir / configured).resolve() != Path(file).resolve():
        click.echo(f"warning: the app's [auth.local] users_file is {app_dir / configured}, not {file}: "
                   f"the app will not see this account", err=True)


@click.command("invite")
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("email")
@click.option("--username", default=None, help="the account's username (default: the e-mail address)")
@click.option("--name", default=None, help="the person's display name")
@click.option("--role", "roles", multiple=True, help="repeatable")
@click.option("--app", default=None, type=click.Path(dir_okay=False),
              help="the app's script (its .streamlit/secrets.toml beside it); default: the current folder's app")
def invite(file: str, email: str, username: str | None, name: str | None, roles: tuple[str, ...],
           app: str | None) -> None:
    """Invite EMAIL: a disabled account in FILE with a one-time link (72 hours) to set its
    password, which activates it and signs the person in.

    The link comes from the app's [auth] redirect_uri; it is printed, and e-mailed when the
    app configures [auth.smtp]. The username is the e-mail address unless --username is given.
    """
    app_dir, script, auth, secrets = _app_auth(app)
    redirect_uri = auth.get("redirect_uri")
    if not isinstance(redirect_uri, str) or not redirect_uri.strip():
        raise click.ClickException(f"[auth] redirect_uri: missing in {secrets}; invitation links are built "
                                   f"from it (e.g. redirect_uri = \"{EXAMPLE_REDIRECT_URI}\")")
    try:
        smtp = parse_smtp(auth.get("smtp"))
        title = resolve_branding(auth.get("login_title") if isinstance(auth.get("login_title"), str) else None,
                                 None, app_dir, script).title
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    _open_audit_file(app_dir)
    _check_users_file(file, auth, app_dir)
    store, _ = _load(file, must_exist=False)
    try:
        issued = invite_account(store, email, redirect_uri.strip(), username=username, name=name, roles=roles)
    except InvitationError as exc:
        raise click.ClickException(f"{exc} (in {file})" if "already exists" in str(exc) else str(exc)) from None
    account = issued.account
    hours = LINK_LIFETIMES[INVITE] // 3600
    click.echo(f"invited {account.username} ({email}); this link works once, for {hours} hours:")
    click.echo(issued.url)
    emailed = False
    try:
        if smtp is not None:
            message = invitation_message(sender=smtp.sender, to=email, link=issued.url,
                                         app_name=app_name(title, redirect_uri), name=name)
            SmtpMailer(smtp).send(message, issued.url)
            emailed = True
    except MailError as exc:
        raise click.ClickException(f"the invitation was not e-mailed: {exc}. The link above works: "
                                   f"give it to {email} yourself") from None
    finally:
        _audit("invitation_sent", file, account.username, email=email, roles=roles, emailed=emailed)
    if emailed:
        click.echo(f"e-mailed to {email}")
    else:
        click.echo(f"not e-mailed ([auth.smtp] is not configured in {secrets}): give the link to {email} yourself")
