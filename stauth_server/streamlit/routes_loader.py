"""Importing the ``--routes`` modules at start-up, with errors a user can act on."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable
from pathlib import Path

from ..core.errors import ConfigError


def load_routes_modules(paths: Iterable[str | Path]) -> list[str]:
    """Import each file once; their ``@sa.route`` calls fill the registry.

    Returns the module names. A missing file or an import error stops start-up with the
    file's name and the cause.
    """
    loaded: list[str] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw).expanduser().resolve()
        if path in seen:
            continue
        seen.add(path)
        if not path.is_file():
            raise ConfigError(f"--routes {raw}: no such file")
        if path.suffix != ".py":
            raise ConfigError(f"--routes {raw}: expected a Python file (.py)")
        name = f"stauth_routes_{len(loaded)}_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ConfigError(f"--routes {raw}: cannot be imported")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(name, None)
            raise ConfigError(f"--routes {raw}: importing it failed: {type(exc).__name__}: {exc}") from exc
        loaded.append(name)
    return loaded
