"""``streamlit-auth users``: manage a local users file (passwords never on the command line)."""

from __future__ import annotations

import getpass
import sys
import tomllib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from ..core.audit import audit, install_file, parse_audit
from ..core.errors import ConfigError
from ..core.accounts.passwords import LOWEST_MIN_LENGTH, check_new_password
from ..core.accounts.second_factor import without_second_factor
from ..core.accounts.links import INVITE
from ..core.identity import user_id
from ..core.sources.local import LocalAccount, UsersFile, UsersFileError, hash_password, valid_username

#: An administrator may set a password shorter than the app's ``min_password_length``, not than this.
MIN_PASSWORD = LOWEST_MIN_LENGTH


def _load(path: str, *, must_exist: bool = True) -> tuple[UsersFile, dict[str, LocalAccount]]:
    users = UsersFile(Path(path))
    if not users.path.exists():
        if must_exist:
            raise click.ClickException(f"{path}: no such users file")
        return users, {}
    try:
        return users, users.accounts()
    except UsersFileError as exc:
        raise click.ClickException(str(exc)) from None


def _change(path: str, username: str, edit: Callable[[LocalAccount], LocalAccount]) -> LocalAccount:
    """Replace USERNAME's account with ``edit(account)`` under the users file's lock; the old account."""
    store, _ = _load(path)

    def change(accounts: dict[str, LocalAccount]) -> LocalAccount:
        if username not in accounts:
            raise click.ClickException(f"no user {username} in {path}")
        old = accounts[username]
        accounts[username] = edit(old)
        return old

    try:
        return store.update(change)
    except UsersFileError as exc:
        raise click.ClickException(str(exc)) from None


def _open_audit_file(app_dir: Path | None = None) -> None:
    """``[auth.audit] file`` of the app in ``app_dir`` (default: the current folder; its
    ``.streamlit/secrets.toml``), so account changes join the app's audit trail."""
    app_dir = app_dir if app_dir is not None else Path.cwd()
    secrets = app_dir / ".streamlit" / "secrets.toml"
    try:
        auth = tomllib.loads(secrets.read_text(encoding="utf-8")).get("auth") if secrets.is_file() else None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return  # the server reports a broken secrets file; account changes still work
    try:
        install_file(parse_audit(auth.get("audit") if isinstance(auth, dict) else None, app_dir))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _audit(event: str, file: str, username: str, **fields: Any) -> None:
    """An account change on the audit trail (never the password or its hash)."""
    try:
        actor = getpass.getuser()
    except (OSError, KeyError):
        actor = None
    audit(event, user_id=user_id("local", username), username=username, users_file=str(Path(file).resolve()),
          actor=actor, **fields)


def _password(from_stdin: bool, username: str, email: str | None = None) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    reason = check_new_password(password, min_length=MIN_PASSWORD, username=username, email=email)
    if reason is not None:
        raise click.ClickException(reason)
    return password


@click.group("users")
def users() -> None:
    """Manage a local users file (argon2id hashes)."""


@users.command("add")
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("username")
@click.option("--email", default=None)
@click.option("--name", default=None)
@click.option("--role", "roles", multiple=True, help="repeatable")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
def add(file: str, username: str, email: str | None, name: str | None, roles: tuple[str, ...],
        password_stdin: bool) -> None:
    """Add USERNAME to FILE (created if missing); the password is asked for."""
    _open_audit_file()
    store, accounts = _load(file, must_exist=False)
    if not valid_username(username):
        raise click.ClickException("usernames use letters, digits and . _ - @ +")
    if username in accounts:
        raise click.ClickException(f"{username} already exists in {file} (use: users passwd)")
    account = LocalAccount(username, hash_password(_password(password_stdin, username, email)), email, name,
                           tuple(roles))

    def change(current: dict[str, LocalAccount]) -> None:
        if username in current:  # added by someone else while the password was typed
            raise click.ClickException(f"{username} already exists in {file} (use: users passwd)")
        current[username] = account

    try:
        store.update(change)
    except UsersFileError as exc:
        raise click.ClickException(str(exc)) from None
    _audit("user_added", file, username, email=email, roles=roles)
    click.echo(f"added {username} to {file}")


@users.command("passwd")
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
def passwd(file: str, username: str, password_stdin: bool) -> None:
    """Set a new password for USERNAME (pending reset and invitation links stop working)."""
    _open_audit_file()
    _, accounts = _load(file)
    if username not in accounts:
        raise click.ClickException(f"no user {username} in {file}")
    password_hash = hash_password(_password(password_stdin, username, accounts[username].email))
    _change(file, username, lambda old: replace(old, password_hash=password_hash, one_time_tokens=()))
    _audit("password_changed", file, username)
    click.echo(f"password of {username} changed")


@users.command("disable")
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("username")
def disable(file: str, username: str) -> None:
    """Disable USERNAME (they can no longer sign in; pending reset and invitation links stop working)."""
    _open_audit_file()
    _change(file, username, lambda old: replace(old, disabled=True, one_time_tokens=()))
    _audit("user_disabled", file, username)
    click.echo(f"{username} disabled")


@users.command("roles")
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("username")
@click.option("--role", "roles", multiple=True, help="repeatable; none clears the account's roles")
def set_roles(file: str, username: str, roles: tuple[str, ...]) -> None:
    """Set the roles of USERNAME (replacing the ones it had)."""
    _open_audit_file()
    old = _change(file, username, lambda old: replace(old, roles=tuple(roles)))
    _audit("roles_changed", file, username, roles=roles, previous_roles=old.roles)
    click.echo(f"roles of {username}: {', '.join(roles) or '-'}")


@users.command("reset-2fa")
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("username")
def reset_second_factor(file: str, username: str) -> None:
    """Remove USERNAME's second factor (TOTP secret and recovery codes), e.g. after a lost phone.

    Passkeys stay (see: users passkeys remove). If the app requires a second factor, the user
    enrols a new one at their next sign-in.
    """
    _open_audit_file()
    old = _change(file, username, without_second_factor)
    if not old.has_second_factor and not old.recovery_codes:
        click.echo(f"{username} had no second factor")
        return
    _audit("second_factor_reset", file, username)
    click.echo(f"second factor of {username} removed")


@users.group("passkeys")
def passkeys() -> None:
    """The passkeys of local accounts."""


@passkeys.command("remove")
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("username")
@click.argument("name", required=False)
@click.option("--all", "remove_all", is_flag=True, help="remove every passkey of USERNAME")
def remove_passkeys(file: str, username: str, name: str | None, remove_all: bool) -> None:
    """Remove USERNAME's passkey called NAME (or all of them, with --all)."""
    if (name is None) == (not remove_all):
        raise click.UsageError("give either a passkey NAME or --all")
    _open_audit_file()

    def edit(old: LocalAccount) -> LocalAccount:
        kept = () if remove_all else tuple(p for p in old.passkeys if p.name != name)
        if len(kept) == len(old.passkeys):
            raise click.ClickException(f"{username} has no passkey named {name!r}" if name is not None
                                       else f"{username} has no passkeys")
        return replace(old, passkeys=kept)

    old = _change(file, username, edit)
    removed = [p for p in old.passkeys if remove_all or p.name == name]
    _audit("passkeys_removed", file, username, names=[p.name for p in removed])
    click.echo(f"removed {len(removed)} passkey{'s' if len(removed) != 1 else ''} of {username}")


@users.command("list")
@click.argument("file", type=click.Path(dir_okay=False))
def list_users(file: str) -> None:
    """List the accounts of FILE (never their hashes): name, e-mail, roles, state, second factor, passkeys."""
    _, accounts = _load(file)
    for account in sorted(accounts.values(), key=lambda a: a.username):
        invited = account.disabled and any(t.purpose == INVITE for t in account.one_time_tokens)
        state = "invited" if invited else "disabled" if account.disabled else "active"
        second = "totp" if account.has_second_factor else "-"
        click.echo(f"{account.username}\t{account.email or '-'}\t{','.join(account.roles) or '-'}\t{state}\t"
                   f"2fa:{second}\tpasskeys:{len(account.passkeys)}")


from .invitations import invite as _invite  # noqa: E402 - a command of its own module (it uses the helpers above)

users.add_command(_invite)
