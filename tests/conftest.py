"""Fixtures shared by every suite: the Streamlit server generation a test runs against."""

from __future__ import annotations

import pytest

from tests.e2e.harness import GENERATIONS, Generation, check_generation


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "generations(*names): run only on these server generations (st156, st156s, st167)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that (through its fixtures) starts a server runs once per generation.

    Module scope, so a module's servers start once per generation, and pytest runs a
    module's tests for one generation before the other's.
    """
    if "generation" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("generations")
    names = list(marker.args) if marker else list(GENERATIONS)
    metafunc.parametrize("generation", [GENERATIONS[name] for name in names],
                         ids=names, indirect=True, scope="module")


@pytest.fixture(scope="module")
def generation(request: pytest.FixtureRequest) -> Generation:
    """The Streamlit generation (and virtualenv) this module's servers run on."""
    chosen: Generation = request.param
    check_generation(chosen)
    return chosen


@pytest.fixture(autouse=True)
def _forget_observed_logo() -> None:
    """An ``st.logo`` seen by one test's script (``patches/app_logo.py``) is not another
    test's app logo: in-process login pages start without one."""
    from stauth_server.core.login_branding import OBSERVED_LOGO

    OBSERVED_LOGO.reset()
