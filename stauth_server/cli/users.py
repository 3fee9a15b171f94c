"""``streamlit-auth users``: manage a local users file (passwords never on the command line)."""

from __future__ import annotations

import getpass
import sys
import tomllib
from pathlib import Path
from typing import Any

import click

from ..core.audit import audit, install_file, parse_audit
from ..core.errors import ConfigError
from ..core.identity import user_id
from ..core.sources.local import LocalAccount, UsersFile, UsersFileError, hash_password, valid_username

MIN_PASSWORD = 8


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


def _open_audit_file() -> None:
    """``[auth.audit] file`` of the app in the current folder (its ``.streamlit/secrets.toml``),
    so account changes join the app's audit trail."""
    secrets = Path(".streamlit") / "secrets.toml"
    try:
        auth = tomllib.loads(secrets.read_text(encoding="utf-8")).get("auth") if secrets.is_file() else None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return  # the server reports a broken secrets file; account changes still work
    try:
        install_file(parse_audit(auth.get("audit") if isinstance(auth, dict) else None, Path.cwd()))
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


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD:
        raise click.ClickException(f"passwords need at least {MIN_PASSWORD} characters")
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
    accounts[username] = LocalAccount(username, hash_password(_password(password_stdin)), email, name, tuple(roles))
    store.save(accounts.values())
    _audit("user_added", file, username, email=email, roles=roles)
    click.echo(f"added {username} to {file}")


@users.command("passwd")
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
def passwd(file: str, username: str, password_stdin: bool) -> None:
    """Set a new password for USERNAME."""
    _open_audit_file()
    store, accounts = _load(file)
    if username not in accounts:
        raise click.ClickException(f"no user {username} in {file}")
    old = accounts[username]
    accounts[username] = LocalAccount(old.username, hash_password(_password(password_stdin)), old.email, old.name,
                                      old.roles, old.disabled)
    store.save(accounts.values())
    _audit("password_changed", file, username)
    click.echo(f"password of {username} changed")


@users.command("disable")
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("username")
def disable(file: str, username: str) -> None:
    """Disable USERNAME (they can no longer sign in)."""
    _open_audit_file()
    store, accounts = _load(file)
    if username not in accounts:
        raise click.ClickException(f"no user {username} in {file}")
    old = accounts[username]
    accounts[username] = LocalAccount(old.username, old.password_hash, old.email, old.name, old.roles, True)
    store.save(accounts.values())
    _audit("user_disabled", file, username)
    click.echo(f"{username} disabled")


@users.command("roles")
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("username")
@click.option("--role", "roles", multiple=True, help="repeatable; none clears the account's roles")
def set_roles(file: str, username: str, roles: tuple[str, ...]) -> None:
    """Set the roles of USERNAME (replacing the ones it had)."""
    _open_audit_file()
    store, accounts = _load(file)
    if username not in accounts:
        raise click.ClickException(f"no user {username} in {file}")
    old = accounts[username]
    accounts[username] = LocalAccount(old.username, old.password_hash, old.email, old.name, tuple(roles), old.disabled)
    store.save(accounts.values())
    _audit("roles_changed", file, username, roles=roles, previous_roles=old.roles)
    click.echo(f"roles of {username}: {', '.join(roles) or '-'}")


@users.command("list")
@click.argument("file", type=click.Path(dir_okay=False))
def list_users(file: str) -> None:
    """List the accounts of FILE (never their hashes)."""
    _, accounts = _load(file)
    for account in sorted(accounts.values(), key=lambda a: a.username):
        state = "disabled" if account.disabled else "active"
        click.echo(f"{account.username}\t{account.email or '-'}\t{','.join(account.roles) or '-'}\t{state}")
