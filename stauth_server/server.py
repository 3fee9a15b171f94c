"""AuthServer: Streamlit's Tornado server with our endpoints mounted in front of its own."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, ClassVar

from . import streamlit_internals as internals
from .config import load_server_config
from .routes_loader import load_routes_modules
from .routes import REGISTRY, RouteRegistry
from .script_api import COOKIE_DELIVERY_PATH, REDIRECT_HANDOFF_PATH
from .tornado_handlers import CookieDeliveryHandler, RedirectHandoffHandler, RouteHandler

_TOKEN = r"(?P<token>[A-Za-z0-9_-]{1,128})"


def base_prefix() -> str:
    """``server.baseUrlPath`` as ``/base`` (or ``""``)."""
    base = (internals.get_config_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}" if base else ""


def under_base(regex_without_caret: str) -> str:
    """A Tornado URL regex for a path (given as a regex starting with '/') under the base."""
    return "^" + re.escape(base_prefix()) + regex_without_caret


def build_handlers(registry: RouteRegistry) -> list[tuple[Any, ...]]:
    """Every handler we add, in matching order: internal endpoints, routes, raw mounts."""
    handlers: list[tuple[Any, ...]] = [
        (under_base(rf"{re.escape(COOKIE_DELIVERY_PATH)}/{_TOKEN}$"), CookieDeliveryHandler),
        (under_base(rf"{re.escape(REDIRECT_HANDOFF_PATH)}/{_TOKEN}$"), RedirectHandoffHandler),
    ]
    for route in registry.routes:
        handlers.append((under_base(route.regex.pattern[1:]), RouteHandler, {"route": route}))
    for pattern, handler_class, kwargs in registry.raw_mounts:
        handlers.append((under_base(pattern.lstrip("^")), handler_class, kwargs))
    return handlers


class AuthServer(internals.server_base_class()):  # type: ignore[misc]
    """Streamlit's server, plus cookie delivery, redirects and the app's custom routes."""

    registry: ClassVar[RouteRegistry] = REGISTRY
    #: Route files given on the command line (absolute), set by ``streamlit-auth run``.
    cli_routes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, main_script_path: str, is_hello: bool) -> None:
        config = load_server_config(Path(main_script_path).resolve().parent)
        load_routes_modules([*self.cli_routes, *config.routes])
        super().__init__(main_script_path, is_hello)

    def _create_app(self) -> Any:
        app = super()._create_app()
        self.registry.check_reserved(
            internals.STREAMLIT_RESERVED_PREFIXES, _static_top_level_names()
        )
        app.add_handlers(r".*$", build_handlers(self.registry))
        self.registry.seal()
        return app


def _static_top_level_names() -> list[str]:
    try:
        return sorted(os.listdir(internals.static_dir()))
    except OSError:
        return []
