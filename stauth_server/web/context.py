"""What endpoints need from their host (Streamlit's config, the identity bus), given by the adapter.

``web/`` never imports Streamlit: the adapter reads ``server.baseUrlPath``, the theme and
the XSRF cookie name and builds one ``WebContext``; paths are joined and stripped here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .pages import Theme

if TYPE_CHECKING:
    from ..core.identity import User
    from ..core.signin import SignInService


def _no_publish(browser: str | None, record: Any, user: User) -> None:
    """Default identity hook: nothing to tell (no live sessions)."""


@dataclass(frozen=True)
class WebContext:
    """Config the endpoints read, as the adapter found it.

    ``base_path``: ``server.baseUrlPath`` as ``/base`` or ``""``; ``xsrf_cookie_name``: the
    host's XSRF cookie (Streamlit's ``_streamlit_xsrf``); ``publish_identity(browser,
    record, user)``: tells the browser's open tabs (every replica) who they are now.
    """

    base_path: str = ""
    xsrf_cookie_name: str = "_streamlit_xsrf"
    #: The SameSite the host gives its XSRF cookie ("lax", "strict", "none"), when it says.
    xsrf_cookie_samesite: str | None = None
    theme: Theme = field(default_factory=Theme)
    service: SignInService | None = None
    publish_identity: Callable[[str | None, Any, Any], None] = _no_publish

    def app_path(self, path: str = "/") -> str:
        """An app-relative path (``/auth/login``) as served (``/base/auth/login``)."""
        return self.base_path + (path if path.startswith("/") else f"/{path}")

    @property
    def cookie_path(self) -> str:
        """The app's cookie scope: ``/`` or ``/base``."""
        return self.base_path or "/"

    def strip_base(self, path: str) -> str:
        """A served path (``/base/reports``) as app-relative (``/reports``)."""
        prefix = self.base_path
        if prefix and (path == prefix or path.startswith(prefix + "/")):
            return path[len(prefix):] or "/"
        return path

    def signin(self) -> SignInService:
        if self.service is None:
            raise RuntimeError("sign-in endpoints need a SignInService in the WebContext")
        return self.service
