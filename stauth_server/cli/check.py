"""``streamlit-auth check [APP.py]``: is this app's sign-in set up right, before anyone tries it?

Reads Streamlit's config and ``[auth]`` exactly as ``run`` would (same flags, same files),
prints the effective configuration with every secret redacted, then checks what start-up
cannot: each provider's discovery document and JWKS, the ``redirect_uri`` against
``server.baseUrlPath`` and the provider, a bind to LDAP with the service account, the users
file's permissions. Exit code 0 when nothing is wrong, else 1 with one line per problem
(2 when the config itself is invalid, as ``run`` would exit).
"""

from __future__ import annotations

import logging
import os
import stat
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import click

from ..core.errors import ConfigError
from ..streamlit import internals

#: Key names whose values are never printed.
SECRET_WORDS = ("secret", "password", "token", "key")


@dataclass
class Report:
    """What ``check`` found: lines that passed and one line per problem."""

    passed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def ok(self, line: str) -> None:
        self.passed.append(line)

    def problem(self, line: str) -> None:
        self.problems.append(line)


def redacted(key: str, value: Any) -> Any:
    """``value`` as printable: secrets replaced by their length, credentials cut from URLs."""
    if isinstance(value, Mapping):
        return {k: redacted(str(k), v) for k, v in value.items()}
    if any(word in key.lower() for word in SECRET_WORDS) and key.lower() not in ("expose_tokens",):
        if isinstance(value, (list, tuple)):
            return [f"<redacted, {len(str(v))} characters>" for v in value]
        return f"<redacted, {len(str(value))} characters>"
    if isinstance(value, str) and "@" in value and "://" in value:
        try:
            parts = urlsplit(value)
        except ValueError:
            return value
        if parts.password is not None:
            host = parts.netloc.rsplit("@", 1)[1]
            user = f"{parts.username}:" if parts.username else ":"
            return urlunsplit(parts._replace(netloc=f"{user}<redacted>@{host}"))
    return value


def effective_lines(auth: Mapping[str, Any], prefix: str = "auth") -> Iterator[str]:
    """``[auth]`` as ``[section] key = value`` lines, secrets redacted."""
    plain = {k: v for k, v in auth.items() if not isinstance(v, Mapping) or k == "client_kwargs"}
    for key, value in plain.items():
        yield f"[{prefix}] {key} = {_toml(redacted(key, value))}"
    for key, value in auth.items():
        if isinstance(value, Mapping) and key != "client_kwargs":
            yield from effective_lines(value, f"{prefix}.{key}")


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return str(value)


# --- the checks ------------------------------------------------------------------------------


def check_redirect_uri(redirect_uri: str | None, base_path: str, report: Report) -> None:
    """The callback path must be where this server serves it; https unless on loopback."""
    if not redirect_uri:
        return
    parts = urlsplit(redirect_uri)
    base = base_path.strip("/")
    expected = f"/{base}/oauth2callback" if base else "/oauth2callback"
    if parts.path.rstrip("/") != expected:
        report.problem(f"[auth] redirect_uri: path {parts.path!r} is not where this server answers "
                       f"(server.baseUrlPath {base_path!r}: expected {expected!r})")
    elif parts.scheme != "https" and (parts.hostname or "") not in ("localhost", "127.0.0.1", "::1"):
        report.problem(f"[auth] redirect_uri: {redirect_uri!r} is plain http on a non-loopback host; "
                       "providers refuse it and the session cookie would not be Secure (use https)")
    else:
        report.ok(f"[auth] redirect_uri {redirect_uri} matches server.baseUrlPath {base_path!r}")


def check_provider(name: str, provider: Any, report: Report, http: Any) -> None:
    """Discovery document, JWKS and the flows we need (code, PKCE S256, an asymmetric alg)."""
    from ..core.oidc.errors import ProviderUnavailable
    from ..core.oidc.metadata import ASYMMETRIC_ALGS, ProviderMetadata

    where = "[auth]" if name == "default" else f"[auth.{name}]"
    if provider.kind != "oidc":
        report.ok(f"{where} {provider.kind}: plain OAuth 2.0, no discovery document to check")
        return
    try:
        doc = ProviderMetadata(provider.server_metadata_url, http).get()
    except ProviderUnavailable as exc:
        report.problem(f"{where} server_metadata_url: {provider.server_metadata_url}: {exc}")
        return
    report.ok(f"{where} discovery {provider.server_metadata_url}: issuer {doc['issuer']}")
    if "code" not in doc.get("response_types_supported", ["code"]):
        report.problem(f"{where}: the provider does not offer the authorization code flow (response_types_supported)")
    methods = doc.get("code_challenge_methods_supported")
    if methods is not None and "S256" not in methods:
        report.problem(f"{where}: the provider does not support PKCE S256 (code_challenge_methods_supported: {methods})")
    algs = doc.get("id_token_signing_alg_values_supported", [])
    if algs and not ASYMMETRIC_ALGS.intersection(algs):
        report.problem(f"{where}: ID tokens are signed only with {algs}; streamlit-auth accepts asymmetric algorithms")
    try:
        jwks = http.get_json(doc["jwks_uri"], what="JWKS")
    except ProviderUnavailable as exc:
        report.problem(f"{where} jwks_uri {doc['jwks_uri']}: {exc}")
        return
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    usable = [k for k in keys or [] if isinstance(k, dict) and k.get("kty") in ("RSA", "EC", "OKP")]
    if not usable:
        report.problem(f"{where} jwks_uri {doc['jwks_uri']}: no RSA, EC or OKP signing key")
    else:
        report.ok(f"{where} JWKS {doc['jwks_uri']}: {len(usable)} signing key(s)")


def check_firebase(name: str, firebase: Any, report: Report, http: Any) -> None:
    """The keys Firebase ID tokens are checked with; with an emulator, that it answers."""
    from ..core.oidc.errors import ProviderUnavailable

    where = f"[auth.{name}]"
    try:
        keys, _ = http.get_json_and_max_age(firebase.keys_url, what="Firebase keys")
    except ProviderUnavailable as exc:
        report.problem(f"{where} keys_url {firebase.keys_url}: {exc}")
    else:
        count = len([v for v in keys.values() if isinstance(v, str)]) if isinstance(keys, dict) else 0
        if count == 0 and firebase.emulator_host is None:
            report.problem(f"{where} keys_url {firebase.keys_url}: no keys (expected {{kid: PEM certificate}})")
        else:
            report.ok(f"{where} Firebase project {firebase.project_id}: {count} key(s) at {firebase.keys_url}")
    if firebase.emulator_host is not None:
        try:
            http.get_json(f"http://{firebase.emulator_host}/emulator/v1/projects/{firebase.project_id}/config",
                          what="Firebase Auth Emulator")
        except ProviderUnavailable as exc:
            report.problem(f"{where} emulator_host {firebase.emulator_host}: {exc}")
        else:
            report.ok(f"{where} emulator_host {firebase.emulator_host}: the Auth Emulator answers")


def check_saml(name: str, provider: Any, report: Report, http: Any) -> None:
    """The IdP metadata (fetched or read) and an AuthnRequest built from it."""
    from ..core.saml.client import SamlClient
    from ..core.saml.errors import SamlUnavailable
    from ..core.saml.login import SamlLoginRequest

    where = f"[auth.{name}]"
    source = provider.idp_metadata_url or f"idp_metadata_file {provider.idp_metadata_file}"
    try:
        url, _ = SamlClient(provider, http).login_redirect(SamlLoginRequest.new_state())
    except SamlUnavailable as exc:
        report.problem(f"{where} {source}: {exc}")
        return
    report.ok(f"{where} SAML IdP metadata {source}: sign-in at {url.split('?', 1)[0]}; "
              f"this app's SP metadata at {provider.metadata_url}, ACS {provider.acs_url}")


def check_ldap(config: Any, report: Report) -> None:
    from ..core.sources.ldap import LdapSource, LdapUnavailable

    who = f"the service account {config.bind_dn}" if config.bind_dn else "an anonymous connection"
    try:
        LdapSource(config).check_connection()
    except LdapUnavailable as exc:
        report.problem(f"[auth.ldap] server_uri {config.server_uri}: {who} failed: {exc}")
        return
    report.ok(f"[auth.ldap] {config.server_uri}: {who} succeeded")


def check_users_file(path: Path, report: Report) -> None:
    from ..core.sources.local import UsersFile, UsersFileError

    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        report.problem(f"[auth.local] users_file {path}: readable or writable by others (mode {mode:o}); "
                       f"run: chmod 600 {path}")
    try:
        count = len(UsersFile(path).accounts())
    except UsersFileError as exc:
        report.problem(f"[auth.local] users_file {path}: {exc}")
        return
    report.ok(f"[auth.local] users_file {path}: {count} account(s), mode {mode:o}")


def run_checks(config: Any, base_path: str, report: Report,
               http_factory: Callable[[], Any] | None = None) -> None:
    """Every network and file check for a parsed ``ServerConfig``."""
    from ..core.oidc.transport import ProviderHTTP

    http = (http_factory or ProviderHTTP)()
    check_redirect_uri(config.redirect_uri, base_path, report)
    for name, provider in config.providers.items():
        check_provider(name, provider, report, http)
    for name, firebase in config.firebase.items():
        check_firebase(name, firebase, report, http)
    for name, saml in config.saml.items():
        check_saml(name, saml, report, http)
    if config.ldap is not None:
        check_ldap(config.ldap, report)
    if config.users_file is not None:
        check_users_file(config.users_file, report)
    if not config.sign_in_enabled:
        report.ok("no sign-in configured: nothing to check beyond the config itself")


# --- the command -------------------------------------------------------------------------------


class _ConfigWarnings(logging.Handler):
    """Collects the config's warnings (unknown keys): for ``check`` each is a problem."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def check_command(target: str, kwargs: dict[str, Any]) -> int:
    """Run every check; print the report; the exit code (0 fine, 1 problems, 2 invalid config)."""
    from ..core.config import _plain, load_server_config
    from .run import _local_script
    from .startup_checks import StartupRefused, check_start_up

    try:
        internals.check_streamlit_version()
    except internals.UnsupportedStreamlitVersion as exc:
        click.echo(f"problem: {exc}", err=True)
        return 2
    script = _local_script(target)
    click.echo(f"streamlit-auth check: {target}")
    click.echo(internals.version_summary())
    internals.load_streamlit_config(os.path.abspath(script) if script else None, kwargs)
    report = Report()
    try:
        check_start_up(script)
    except StartupRefused as exc:
        for line in str(exc).splitlines():
            report.problem(line)
    app_dir = script.resolve().parent if script is not None else Path.cwd()
    warnings = _ConfigWarnings()
    logging.getLogger("stauth_server.config").addHandler(warnings)
    try:
        config = load_server_config(app_dir, script.resolve() if script is not None else None)
    except ConfigError as exc:
        click.echo(f"problem: {exc}", err=True)
        for line in report.problems:
            click.echo(f"problem: {line}", err=True)
        return 2
    finally:
        logging.getLogger("stauth_server.config").removeHandler(warnings)
    for line in warnings.lines:
        report.problem(line)
    import streamlit as st

    auth = st.secrets.get("auth", {}) if st.secrets.load_if_toml_exists() else {}
    click.echo("\neffective configuration (secrets redacted):")
    base_path = str(internals.get_config_option("server.baseUrlPath") or "")
    click.echo(f"  server.baseUrlPath = {_toml(base_path)}")
    for line in effective_lines(_plain(auth)):
        click.echo(f"  {line}")
    if config.store_url:
        click.echo(f"  sessions stored at {redacted('url', config.store_url)}")
    run_checks(config, base_path, report)
    click.echo("\nchecks:")
    for line in report.passed:
        click.echo(f"  ok: {line}")
    if report.problems:
        click.echo(f"\n{len(report.problems)} problem(s):", err=True)
        for line in report.problems:
            click.echo(f"problem: {line}", err=True)
        return 1
    click.echo("\nno problems found")
    return 0


@click.command("check")
@internals.streamlit_configurator_options()
@click.argument("target", default="streamlit_app.py", envvar="STREAMLIT_RUN_TARGET")
def check(target: str, **kwargs: Any) -> None:
    """Check an app's sign-in setup: config, providers, LDAP, users file (no server started).

    Takes the same config flags as `run`. Exit code 0: no problem; 1: problems, one line
    each; 2: the config is invalid (`run` would refuse to start).
    """
    sys.exit(check_command(target, kwargs))
