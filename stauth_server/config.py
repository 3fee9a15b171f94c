"""streamlit-auth's configuration: the ``[auth]`` table of ``.streamlit/secrets.toml``.

Read through Streamlit's public ``st.secrets``; validated at start-up so a wrong key stops
the server with the key's name and what is expected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError


@dataclass(frozen=True)
class ServerConfig:
    """The parts of the config the server needs at start-up."""

    routes: tuple[Path, ...] = ()


def parse_server_config(auth: Mapping[str, Any], app_dir: Path) -> ServerConfig:
    """Validate ``[auth]`` keys about the server; relative paths are from the app's folder."""
    raw = auth.get("routes", ())
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, (list, tuple)) or not all(isinstance(item, str) and item for item in raw):
        raise ConfigError(f"[auth] routes: expected a list of Python file paths, got {raw!r}")
    return ServerConfig(routes=tuple((app_dir / item) for item in raw))


def load_server_config(app_dir: Path) -> ServerConfig:
    """Read ``[auth]`` from ``st.secrets`` (an absent secrets file means defaults)."""
    import streamlit as st

    try:
        auth = st.secrets.get("auth", {}) if st.secrets.load_if_toml_exists() else {}
    except Exception as exc:  # a malformed secrets.toml
        raise ConfigError(f".streamlit/secrets.toml could not be read: {exc}") from exc
    if not isinstance(auth, Mapping):
        raise ConfigError(f"[auth]: expected a table, got {type(auth).__name__}")
    return parse_server_config(auth, app_dir)
