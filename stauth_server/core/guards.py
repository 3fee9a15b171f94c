"""Who may do what: one decision used by scripts, functions, routes and page rules."""

from __future__ import annotations

import enum
import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from .errors import Forbidden
from .identity import ANONYMOUS, User

F = TypeVar("F", bound=Callable[..., Any])


def _no_session_user() -> User:
    return ANONYMOUS


# The user of the running Streamlit session, for @requires without ``user=``. The core knows
# no Streamlit: streamlit/script_api.py installs its ``current_user`` here when imported.
session_user: Callable[[], User] = _no_session_user


class Decision(enum.Enum):
    ALLOW = "allow"
    SIGN_IN = "sign_in"   # a visitor: send them to sign in
    FORBID = "forbid"     # signed in, but without access


def decide(user: User, *, roles: Iterable[str] = (), groups: Iterable[str] = (),
           check: Callable[[User], bool] | None = None, login: bool = True) -> Decision:
    """ALLOW, SIGN_IN (visitor) or FORBID, for a user against the rules.

    ``roles``/``groups``: the user needs at least one of each list given. ``check`` is
    any further test of the user. ``login=False`` lets visitors through when no rule
    asks for anything.
    """
    roles, groups = tuple(roles), tuple(groups)
    if not user.is_logged_in:
        return Decision.SIGN_IN if (login or roles or groups or check) else Decision.ALLOW
    if roles and not user.has_role(*roles):
        return Decision.FORBID
    if groups and not user.in_group(*groups):
        return Decision.FORBID
    if check is not None and not check(user):
        return Decision.FORBID
    return Decision.ALLOW


def requires(roles: Iterable[str] = (), groups: Iterable[str] = (), check: Callable[[User], bool] | None = None,
             *, otherwise: str = "skip", user: Callable[[], User] | None = None) -> Callable[[F], F]:
    """Decorate a function so it runs only for users who pass the rules.

    ``otherwise="skip"`` makes it return None for others; ``"raise"`` raises
    ``sa.Forbidden``. Works on sync and async functions alike.
    """
    if otherwise not in ("skip", "raise"):
        raise ValueError(f"otherwise must be 'skip' or 'raise', got {otherwise!r}")
    roles, groups = tuple(roles), tuple(groups)

    def current() -> User:
        if user is not None:
            return user()
        return session_user()

    def allowed() -> bool:
        if decide(current(), roles=roles, groups=groups, check=check) is Decision.ALLOW:
            return True
        if otherwise == "raise":
            raise Forbidden("You do not have access to this.")
        return False

    def decorate(func: F) -> F:
        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def guarded_async(*args: Any, **kwargs: Any) -> Any:
                return await func(*args, **kwargs) if allowed() else None

            return guarded_async  # type: ignore[return-value]

        @functools.wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs) if allowed() else None

        return guarded  # type: ignore[return-value]

    return decorate
