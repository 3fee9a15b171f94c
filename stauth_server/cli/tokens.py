"""``streamlit-auth tokens``: personal API tokens of local accounts (shown once, stored hashed)."""

from __future__ import annotations

import datetime

from collections.abc import Callable
from typing import TypeVar

import click

from ..core.api_tokens import ApiToken, issue
from ..core.durations import parse_duration
from ..core.sources.local import LocalAccount, UsersFile, UsersFileError
from .users import _load

T = TypeVar("T")

DEFAULT_LIFETIME = "90d"


@click.group("tokens")
def tokens() -> None:
    """Personal API tokens for local accounts (sent as `Authorization: Bearer ...`)."""


@tokens.command("create")
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("username")
@click.option("--name", default=None, help="a label to find it again (default: its id)")
@click.option("--expires", default=DEFAULT_LIFETIME, show_default=True,
              help='lifetime such as "30d", "12h", "1w", or "never"')
def create(file: str, username: str, name: str | None, expires: str) -> None:
    """Create a token for USERNAME in FILE; it is printed once and only its hash is kept."""
    store, _ = _load(file)
    lifetime = _lifetime(expires)
    token, record = issue(username, name, lifetime)

    def add(accounts: dict[str, LocalAccount], existing: dict[str, ApiToken]) -> None:
        if username not in accounts:
            raise click.ClickException(f"no user {username} in {file}")
        if accounts[username].disabled:
            raise click.ClickException(f"{username} is disabled")
        if name is not None and any(t.user == username and t.name == name for t in existing.values()):
            raise click.ClickException(f"{username} already has a token named {name!r}")
        existing[record.id] = record

    _update(store, add)
    click.echo(token)
    click.echo(f"created token {record.id} ({record.name!r}) for {username}, expires {_when(record.expires)}; "
               "it is shown only now", err=True)


@tokens.command("list")
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("username", required=False)
def list_tokens(file: str, username: str | None) -> None:
    """List the tokens of FILE (or of USERNAME): id, user, name, created, expires. Never the token."""
    store, _ = _load(file)
    for record in sorted(store.api_tokens().values(), key=lambda t: (t.user, t.created, t.id)):
        if username is None or record.user == username:
            state = "expired" if record.expired() else "active"
            click.echo(f"{record.id}\t{record.user}\t{record.name}\t{_when(record.created)}\t"
                       f"{_when(record.expires)}\t{state}")


@tokens.command("revoke")
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("username")
@click.argument("token")
def revoke(file: str, username: str, token: str) -> None:
    """Revoke USERNAME's TOKEN, given by its id or its name."""
    store, _ = _load(file)

    def remove(_accounts: dict[str, LocalAccount], existing: dict[str, ApiToken]) -> set[str]:
        matches = {t.id for t in existing.values() if t.user == username and token in (t.id, t.name)}
        if not matches:
            raise click.ClickException(f"{username} has no token with id or name {token!r}")
        for token_id in matches:
            del existing[token_id]
        return matches

    gone = _update(store, remove)
    click.echo(f"revoked {', '.join(sorted(gone))} of {username}")


def _update(store: UsersFile, change: Callable[[dict[str, LocalAccount], dict[str, ApiToken]], T]) -> T:
    """``change`` applied under the users file's lock (see ``UsersFile.update``)."""
    try:
        return store.update_with_tokens(change)
    except UsersFileError as exc:
        raise click.ClickException(str(exc)) from None


def _lifetime(expires: str) -> int | None:
    if expires.strip().lower() == "never":
        return None
    try:
        return parse_duration(expires, "--expires")
    except ValueError as exc:
        raise click.ClickException(f"{exc} (or \"never\")") from None


def _when(stamp: int | None) -> str:
    if stamp is None:
        return "never"
    return datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%MZ")

