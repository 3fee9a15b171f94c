"""Paths of this app under ``server.baseUrlPath``: one place to join and strip the base."""

from __future__ import annotations

from . import internals


def base_prefix() -> str:
    """``server.baseUrlPath`` as ``/base`` (or ``""`` at the root)."""
    base = (internals.get_config_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}" if base else ""


def app_path(path: str = "/") -> str:
    """An app-relative path (``/auth/login``) as served (``/base/auth/login``)."""
    return base_prefix() + (path if path.startswith("/") else f"/{path}")


def cookie_path() -> str:
    """The app's cookie scope: ``/`` or ``/base`` (no trailing slash)."""
    return base_prefix() or "/"


def strip_base(path: str) -> str:
    """A served path (``/base/reports``) as app-relative (``/reports``)."""
    prefix = base_prefix()
    if prefix and (path == prefix or path.startswith(prefix + "/")):
        return path[len(prefix):] or "/"
    return path
