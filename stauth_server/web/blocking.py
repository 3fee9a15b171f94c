"""Running blocking work off the event loop, in two pools that cannot starve each other.

Session lookups (the store: SQLite or Redis) are short and on every signed-in request;
sign-in work (the identity provider, LDAP, argon2) can take seconds when a provider is
slow. Each has its own threads, so forty sign-ins stuck on a slow provider never delay
another user's page, and a slow store never delays the event loop.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

STORE_POOL = ThreadPoolExecutor(max_workers=32, thread_name_prefix="stauth-store")
SIGN_IN_POOL = ThreadPoolExecutor(max_workers=32, thread_name_prefix="stauth-signin")


async def off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a store call (session lookup, touch, revoke) without blocking the event loop."""
    return await asyncio.get_running_loop().run_in_executor(STORE_POOL, functools.partial(fn, *args, **kwargs))


async def sign_in_work(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run sign-in work (provider, LDAP, argon2) without blocking the loop or the store pool."""
    return await asyncio.get_running_loop().run_in_executor(SIGN_IN_POOL, functools.partial(fn, *args, **kwargs))


def in_background(fn: Callable[..., Any], *args: Any) -> None:
    """Start a store call (a bus publish) on the store pool without waiting for it."""
    STORE_POOL.submit(fn, *args)
