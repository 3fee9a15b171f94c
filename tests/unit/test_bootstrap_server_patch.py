"""The one patch to Streamlit: ``streamlit.web.bootstrap.run()`` builds our ``AuthServer``."""

from __future__ import annotations

import pytest

from stauth_server.streamlit import internals
from stauth_server.patches import apply_all, bootstrap_server
from stauth_server.tornado.server import AuthServer


@pytest.fixture
def bootstrap():
    """Streamlit's bootstrap module, with its original ``Server`` put back afterwards."""
    module = internals.bootstrap_module()
    original = module.Server
    yield module
    module.Server = original


def test_streamlit_starts_unpatched(bootstrap):
    assert bootstrap.Server is internals.server_base_class()
    assert bootstrap_server.is_applied() is False


def test_apply_makes_bootstrap_build_the_auth_server(bootstrap):
    bootstrap_server.apply()
    assert bootstrap.Server is AuthServer
    assert bootstrap_server.is_applied() is True


def test_apply_is_idempotent(bootstrap):
    bootstrap_server.apply()
    bootstrap_server.apply()
    apply_all()
    assert bootstrap.Server is AuthServer


def test_apply_refuses_to_override_another_tools_patch(bootstrap):
    class SomeoneElsesServer(internals.server_base_class()):
        pass

    bootstrap.Server = SomeoneElsesServer
    with pytest.raises(RuntimeError, match="another tool patched it"):
        bootstrap_server.apply()
    assert bootstrap.Server is SomeoneElsesServer


def test_auth_server_is_a_streamlit_server():
    assert issubclass(AuthServer, internals.server_base_class())


def test_the_patch_names_the_installed_streamlit_as_verified():
    assert set(bootstrap_server.VERIFIED_VERSIONS) == set(internals.SUPPORTED_VERSIONS)


def test_importing_the_package_does_not_patch_streamlit(bootstrap):
    import stauth_server  # noqa: F401 - the import is the point

    assert bootstrap.Server is not AuthServer
