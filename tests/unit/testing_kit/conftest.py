"""What an app author's ``conftest.py`` holds: which app the stauth fixtures run.

An installed streamlit-auth registers its pytest plugin (the ``pytest11`` entry point); this
checkout's tests may run from an older install or from ``PYTHONPATH`` alone, so the plugin
is registered here when the entry point has not done it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "apps_for_kit" / "app.py"


def pytest_configure(config: pytest.Config) -> None:
    from stauth_server.testing import pytest_plugin

    if not config.pluginmanager.is_registered(pytest_plugin):
        config.pluginmanager.register(pytest_plugin, "stauth")


@pytest.fixture
def stauth_app() -> Path:
    return APP
