"""Identity hooks: ``@sa.on_login`` functions run once per sign-in, from any source."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from .errors import Forbidden
from .identity import User

LOGGER = logging.getLogger("stauth_server.hooks")

LoginHook = Callable[[User, str], "dict[str, Any] | None"]
_HOOKS: list[LoginHook] = []


class LoginRefused(Exception):
    """A hook refused the sign-in; ``message`` is shown to the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def on_login(func: LoginHook) -> LoginHook:
    """Register ``func(user, source) -> dict | None`` to run once per sign-in.

    A returned dict is merged into the identity: ``roles`` (a list) adds roles, any other
    key becomes a claim. Raise ``sa.Forbidden("why")`` to refuse the sign-in.
    """
    _HOOKS.append(func)
    return func


def registered() -> tuple[LoginHook, ...]:
    return tuple(_HOOKS)


def run_login_hooks(user: User, source: str, hooks: Iterable[LoginHook] | None = None) -> tuple[dict[str, Any], list[str]]:
    """(extra claims, granted roles) from every hook, in registration order."""
    claims: dict[str, Any] = {}
    roles: list[str] = []
    for hook in registered() if hooks is None else hooks:
        try:
            result = hook(user, source)
        except Forbidden as refused:
            raise LoginRefused(refused.message or "You may not sign in to this app.") from None
        except Exception:
            LOGGER.exception("on_login hook %s failed", getattr(hook, "__qualname__", hook))
            raise LoginRefused("The app could not complete your sign-in. Try again later.") from None
        if result is None:
            continue
        if not isinstance(result, dict):
            LOGGER.error("on_login hook %s returned %s, not a dict or None", hook, type(result).__name__)
            raise LoginRefused("The app could not complete your sign-in. Try again later.")
        extra_roles = result.get("roles", [])
        if isinstance(extra_roles, str):
            extra_roles = [extra_roles]
        if not isinstance(extra_roles, (list, tuple)) or not all(isinstance(r, str) for r in extra_roles):
            LOGGER.error("on_login hook %s returned roles=%r, not a list of strings", hook, extra_roles)
            raise LoginRefused("The app could not complete your sign-in. Try again later.")
        roles.extend(extra_roles)
        claims.update({k: v for k, v in result.items() if k != "roles"})
    return claims, roles
