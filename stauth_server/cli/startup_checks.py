"""Refusing start-ups that would be unsafe, or that streamlit-auth cannot serve yet.

``streamlit-auth run`` calls ``check_start_up`` once Streamlit's config is loaded (its
``config.toml`` files, ``STREAMLIT_*`` environment variables and command-line flags) and
before any server is built. Every problem found is reported at once, and the command
exits with code 2:

- the demo's published cookie secrets or accounts on an address other computers can
  reach (anything but loopback: an unset ``server.address`` listens on every interface);
- what Streamlit 1.56 would serve without streamlit-auth's server, so with no sign-in,
  no identity and none of our endpoints: ``server.useStarlette`` and scripts that define
  an ASGI app (``streamlit.starlette.App``, FastAPI, Starlette).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..streamlit import internals
from ..core.errors import ConfigError
from ..core.addresses import is_loopback

#: Cookie secrets our examples and docs publish -> where: they let anyone forge a session.
DEMO_COOKIE_SECRETS: Mapping[str, str] = MappingProxyType({
    "demo-only-cookie-secret-do-not-use-in-production-0": "examples/.streamlit/secrets.toml",
    "at-least-32-random-characters...": "the README's sign-in example",
})

#: The password hashes of ``examples/demo_users.toml`` (alice, bob), whose passwords are
#: published. A file holding one is the demo's, whatever its name or layout.
DEMO_PASSWORD_HASHES: frozenset[str] = frozenset({
    "$argon2id$v=19$m=65536,t=3,p=4$FONGTogY0ydO3tmSOh+f2Q$KZgPEG1Rkby3eZjNefEK030t9ElPzZ40+VZX2MPtsBk",
    "$argon2id$v=19$m=65536,t=3,p=4$mVpWseKYgIyoxkAlXteHoA$nFtCvqdBDhVdgDfNjNCWFyiIqY39jgqS1O0sXLsUok4",
})

NEW_SECRET_COMMAND = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
BIND_LOCALLY = '--server.address localhost, or [server] address = "localhost" in .streamlit/config.toml'
#: What both server replacements would lose.
WITHOUT_US = "without streamlit-auth's sign-in, identity or endpoints"


class StartupRefused(ConfigError):
    """Starting would be unsafe or unsupported; the message says what to change."""


def demo_secrets_in(auth: Mapping[str, Any]) -> list[str]:
    """Where each published cookie secret that ``[auth]`` lists comes from."""
    listed = auth.get("cookie_secrets")
    secrets = [auth.get("cookie_secret"), *(listed if isinstance(listed, (list, tuple)) else ())]
    found = (DEMO_COOKIE_SECRETS.get(s.strip()) for s in secrets if isinstance(s, str))
    return list(dict.fromkeys(where for where in found if where))


def demo_accounts_in(users_file: Path) -> list[str]:
    """The enabled accounts of ``users_file`` that still have a published demo password."""
    from ..core.sources.local import UsersFile, UsersFileError

    try:
        accounts = UsersFile(users_file).accounts()
    except UsersFileError:
        return []  # missing or malformed: the sign-in set-up reports it
    return sorted(name for name, account in accounts.items()
                  if not account.disabled and account.password_hash in DEMO_PASSWORD_HASHES)


def _users_file(auth: Mapping[str, Any], app_dir: Path) -> Path | None:
    """``[auth.local] users_file``, relative to the app script's folder as in the config."""
    local = auth.get("local")
    name = local.get("users_file") if isinstance(local, Mapping) else None
    return app_dir / name if isinstance(name, str) and name else None


def demo_on_network_problem(address: str | None, address_source: str, auth: Mapping[str, Any],
                            app_dir: Path | None) -> str | None:
    """Why serving ``[auth]`` on ``address`` would expose demo credentials, or None."""
    if is_loopback(address):
        return None
    found = [f"[auth] cookie_secret is the published demo secret from {where}" for where in demo_secrets_in(auth)]
    users_file = _users_file(auth, app_dir) if app_dir is not None else None
    accounts = demo_accounts_in(users_file) if users_file is not None else []
    if accounts:
        found.append(f"{users_file} holds demo accounts whose passwords are published ({', '.join(accounts)})")
    if not found:
        return None
    listening = (f"server.address = {address!r} (from {address_source})" if address
                 else "every network interface (server.address is not set)")
    return (
        f"refusing to serve demo credentials on {listening}: {'; '.join(found)}. Anyone who has read "
        f"the examples could sign in or forge a session. Use your own (a secret: {NEW_SECRET_COMMAND}; "
        f"accounts: streamlit-auth users add users.toml USERNAME), or keep the demo on this computer: "
        f"{BIND_LOCALLY}."
    )


#: The first Starlette release Streamlit 1.56's own Starlette server fails with (its gzip
#: middleware and Starlette's file responses: "Expected ASGI message 'http.response.start'").
BROKEN_STARLETTE_FOR_1_56 = (1, 8)


def installed_version(package: str) -> tuple[int, ...] | None:
    """``package``'s installed version as numbers (``(1, 7, 0)``), or None."""
    try:
        text = importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None
    numbers = []
    for part in text.split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        if not digits:
            break
        numbers.append(int(digits))
    return tuple(numbers)


def starlette_server_problem(use_starlette: bool, source: str) -> str | None:
    """Why ``server.useStarlette`` (Streamlit 1.56) cannot be honoured, or None.

    It is supported (our Starlette adapter serves it) when Streamlit's optional Starlette
    packages are installed; without them Streamlit itself would fail later, less clearly.
    """
    if not use_starlette:
        return None
    missing = [name for name in ("starlette", "uvicorn", "websockets") if importlib.util.find_spec(name) is None]
    if not missing:
        found = installed_version("starlette")
        if found is not None and found >= BROKEN_STARLETTE_FOR_1_56:
            return (
                f"server.useStarlette is true (from {source}), but Streamlit 1.56's Starlette server "
                f"answers 500 for its own static files with Starlette 1.8 or later (installed: "
                f"{'.'.join(map(str, found))}): pip install 'starlette<1.8', or set server.useStarlette to false."
            )
        return None
    return (
        f"server.useStarlette is true (from {source}), but {', '.join(missing)} "
        f"{'is' if len(missing) == 1 else 'are'} not installed: pip install 'streamlit[starlette]', "
        f"or set server.useStarlette to false to use the Tornado server."
    )


def asgi_app_problem(script: Path) -> str | None:
    """Why a script that defines an ASGI app cannot be served, or None for a plain script."""
    app_name = internals.asgi_app_in_script(str(script))
    if app_name is None:
        return None
    return (
        f"{script.name} defines an ASGI app ({app_name!r}): Streamlit would serve it with "
        f"uvicorn instead of its own server, {WITHOUT_US}. ASGI apps (streamlit.starlette.App, "
        f"FastAPI, Starlette) are not supported yet: run a plain Streamlit script, and serve HTTP "
        f"endpoints with @sa.route in a --routes module."
    )


def _auth_table() -> Mapping[str, Any]:
    """``[auth]`` from ``st.secrets``; empty when absent or unreadable (the config reports that)."""
    import streamlit as st

    try:
        auth = st.secrets.get("auth", {}) if st.secrets.load_if_toml_exists() else {}
    except Exception:  # a malformed secrets.toml: load_server_config names the error
        return {}
    return auth if isinstance(auth, Mapping) else {}


def check_start_up(script: Path | None) -> None:
    """Raise ``StartupRefused`` naming every problem (``script`` is None for a URL target).

    Streamlit's config must already be loaded with the command line's flags.
    """
    problems = [
        # server.useStarlette exists on 1.56 only (reading it raises on 1.57+, where
        # Starlette is the only server); our Starlette adapter serves it either way.
        starlette_server_problem(bool(internals.get_config_option("server.useStarlette")),
                                 internals.config_option_source("server.useStarlette"))
        if internals.option_exists("server.useStarlette") else None,
        asgi_app_problem(script) if script is not None else None,
        demo_on_network_problem(internals.get_config_option("server.address"),
                                internals.config_option_source("server.address"), _auth_table(),
                                script.resolve().parent if script is not None else None),
    ]
    found = [problem for problem in problems if problem]
    if found:
        raise StartupRefused("\n".join(found))
