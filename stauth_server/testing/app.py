"""The app under test: its main script, its ``[auth]`` secrets and what they configure."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.config import ServerConfig, parse_server_config

#: What ``stauth_app`` (a fixture, or the ``stauth_app`` ini option) and ``app=`` accept.
AppPath = str | os.PathLike[str]


@dataclass(frozen=True)
class KitApp:
    """An app as ``streamlit-auth run`` would serve it.

    ``main_script``: the script ``streamlit-auth run`` is given (None: no app named, each
    script runs on its own); ``secrets``: its ``.streamlit/secrets.toml`` (or the test's
    ``secrets=``); ``config``: their ``[auth]`` table, validated as at start-up.
    """

    main_script: Path | None
    secrets: Mapping[str, Any] = field(default_factory=dict)
    config: ServerConfig = field(default_factory=ServerConfig)

    @property
    def folder(self) -> Path:
        return self.main_script.parent if self.main_script is not None else Path.cwd()


def load_app(app: AppPath | None, secrets: Mapping[str, Any] | None = None) -> KitApp:
    """The app whose main script is ``app`` (absolute, or from the working directory).

    ``secrets``, when given, replaces the app's ``.streamlit/secrets.toml`` entirely (as
    ``AppTest.secrets`` replaces ``st.secrets``). A malformed ``[auth]`` raises ``ConfigError``
    exactly as start-up would.
    """
    main = Path(app).resolve() if app is not None else None
    if main is not None and not main.is_file():
        raise FileNotFoundError(f"stauth_app: {app} is not a file (expected the app's main script, "
                                f"absolute or relative to {Path.cwd()})")
    folder = main.parent if main is not None else Path.cwd()
    table = dict(secrets) if secrets is not None else read_secrets(folder / ".streamlit" / "secrets.toml")
    auth = table.get("auth", {})
    return KitApp(main, table, parse_server_config(_plain(auth), folder))


def read_secrets(path: Path) -> dict[str, Any]:
    """A ``secrets.toml`` as a dict (empty when there is none)."""
    if not path.is_file():
        return {}
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the toml package Streamlit itself depends on
        import toml

        return dict(toml.loads(path.read_text(encoding="utf-8")))
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
