"""The ``streamlit-auth`` command: ``run`` takes every ``streamlit run`` option, plus ours."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from .. import __version__
from ..streamlit import internals
from ..core.errors import ConfigError, RouteError
from .startup_checks import check_start_up


@click.group()
@click.version_option(__version__, prog_name="streamlit-auth",
                      message=f"%(prog)s %(version)s\n{internals.version_summary()}")
def main() -> None:
    """streamlit-auth: authentication, cookies, redirects and HTTP endpoints for Streamlit."""


def _run_command(func: Any) -> Any:
    return internals.streamlit_configurator_options()(func)


@main.command("run")
@_run_command
@click.option(
    "--routes",
    "routes",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="A Python module whose @sa.route endpoints to serve (repeatable).",
)
@click.argument("target", default="streamlit_app.py", envvar="STREAMLIT_RUN_TARGET")
@click.argument("args", nargs=-1)
def run(target: str, args: tuple[str, ...], routes: tuple[str, ...], **kwargs: Any) -> None:
    """Run a Streamlit app on streamlit-auth's server.

    Takes every `streamlit run` option with the same meaning. Script arguments go after
    " -- ", as with `streamlit run`.
    """
    try:
        internals.check_streamlit_version()
    except internals.UnsupportedStreamlitVersion as exc:
        raise click.ClickException(str(exc)) from None

    from ..patches import apply_all
    from ..streamlit.server_setup import AuthServerSetup

    AuthServerSetup.cli_routes = tuple(os.path.abspath(path) for path in routes)
    script = _local_script(target)
    try:
        # The config `streamlit run` is about to load (files, STREAMLIT_* variables, flags),
        # loaded first so unsafe or unsupported start-ups stop before any server exists,
        # and so the patches know which server (server.useStarlette on 1.56) will run.
        internals.load_streamlit_config(os.path.abspath(script) if script else None, kwargs)
        check_start_up(script)
        _install_audit_file(script)
        apply_all()
        internals.streamlit_run_command().callback(target=target, args=list(args), **kwargs)
    except (ConfigError, RouteError) as exc:
        click.echo(f"streamlit-auth: error: {exc}", err=True)
        sys.exit(2)


def _install_audit_file(script: Path | None) -> None:
    """``[auth.audit] file``: the audit trail's file, opened before any request is served."""
    from ..core.audit import install_file, parse_audit
    from .startup_checks import _auth_table as auth_table

    app_dir = script.resolve().parent if script is not None else Path.cwd()
    install_file(parse_audit(auth_table().get("audit"), app_dir))


def _local_script(target: str) -> Path | None:
    """The file `streamlit run` runs for ``target`` (a folder means its streamlit_app.py);
    None for a URL or a missing file, which Streamlit itself handles."""
    path = Path(target)
    if path.is_dir():
        path /= "streamlit_app.py"
    return path if path.is_file() else None


from .users import users as _users  # noqa: E402 - a subcommand group of its own module

main.add_command(_users)

from .tokens import tokens as _tokens  # noqa: E402 - a subcommand group of its own module

main.add_command(_tokens)

from .check import check as _check  # noqa: E402 - a subcommand of its own module

main.add_command(_check)
