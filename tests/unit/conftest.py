"""Fixtures shared by the unit tests (no server, no browser)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from stauth_server.http_types import Request
from stauth_server.identity import ANONYMOUS, User
from stauth_server.routes import RouteRegistry


@pytest.fixture
def registry() -> RouteRegistry:
    """A fresh registry, so no test touches the global ``REGISTRY``."""
    return RouteRegistry()


@pytest.fixture
def make_request() -> Callable[..., Request]:
    """Build a ``Request`` the way the server would, with sensible defaults."""

    def build(
        *,
        method: str = "GET",
        path: str = "/api/x",
        path_params: dict[str, str] | None = None,
        query_string: str = "",
        headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
        user: User = ANONYMOUS,
    ) -> Request:
        return Request(
            method=method,
            path=path,
            path_params=path_params or {},
            query_string=query_string,
            headers=list(headers),
            body=body,
            client_ip="127.0.0.1",
            user=user,
        )

    return build
