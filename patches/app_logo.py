"""Let the login page show the app's ``st.logo`` image when the main script does not name
it literally: every ``st.logo`` call offers its image to ``core.login_branding.OBSERVED_LOGO``
before Streamlit draws it (the call itself is unchanged).

Touch point: the name ``logo`` in ``streamlit``.
Verified: Streamlit 1.56.0 to 1.67.0 (``scripts/check_touch_points.py``; end to end on 1.56.0).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from stauth_server.core.login_branding import OBSERVED_LOGO
from stauth_server.streamlit import internals

VERIFIED_VERSIONS = internals.SUPPORTED_VERSIONS


def apply() -> None:
    module = internals.streamlit_module()
    if is_applied():
        return
    original = module.logo

    @functools.wraps(original)
    def logo(image: Any, *args: Any, **kwargs: Any) -> Any:
        OBSERVED_LOGO.offer(image, Path.cwd())
        return original(image, *args, **kwargs)

    logo.__stauth_observes_logo__ = True  # type: ignore[attr-defined]
    module.logo = logo


def is_applied() -> bool:
    return getattr(internals.streamlit_module().logo, "__stauth_observes_logo__", False)
