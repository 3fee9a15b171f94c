"""Loading the ``--routes`` modules: their routes register; every failure names the file."""

from __future__ import annotations

import sys

import pytest

from stauth_server.web import routes
from stauth_server.core.errors import ConfigError
from stauth_server.streamlit.routes_loader import load_routes_modules

ROUTES_MODULE = '''
import stauth_server as sa

@sa.route("/api/ping", methods=["GET", "POST"], auth="required")
def ping(request):
    return {"pong": True}
'''


@pytest.fixture
def module_registry(monkeypatch, registry):
    """Point ``@sa.route`` at a fresh registry for the duration of the test."""
    monkeypatch.setattr(routes, "REGISTRY", registry)
    return registry


@pytest.fixture
def forget_loaded_modules():
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.startswith("stauth_routes_"):
            del sys.modules[name]


def test_a_module_with_route_decorators_registers_its_routes(tmp_path, module_registry, forget_loaded_modules):
    api = tmp_path / "api.py"
    api.write_text(ROUTES_MODULE)
    names = load_routes_modules([api])
    (route,) = module_registry.routes
    assert (route.path, route.methods, route.auth) == ("/api/ping", ("GET", "POST"), "required")
    assert route.handler.__module__ == names[0]
    assert names[0] in sys.modules


def test_the_same_file_twice_is_imported_once(tmp_path, module_registry, forget_loaded_modules):
    api = tmp_path / "api.py"
    api.write_text(ROUTES_MODULE)
    (tmp_path / "sub").mkdir()
    names = load_routes_modules([api, str(api), tmp_path / "sub" / ".." / "api.py"])
    assert len(names) == 1
    assert len(module_registry.routes) == 1


def test_several_files_are_loaded_in_order(tmp_path, module_registry, forget_loaded_modules):
    first = tmp_path / "first.py"
    second = tmp_path / "second.py"
    first.write_text('import stauth_server as sa\n@sa.route("/api/one")\ndef one(request):\n    return 1\n')
    second.write_text('import stauth_server as sa\n@sa.route("/api/two")\ndef two(request):\n    return 2\n')
    names = load_routes_modules([first, second])
    assert [route.path for route in module_registry.routes] == ["/api/one", "/api/two"]
    assert len(set(names)) == 2


def test_missing_file_is_a_config_error_naming_it(tmp_path):
    missing = tmp_path / "nope.py"
    with pytest.raises(ConfigError, match="nope.py: no such file"):
        load_routes_modules([missing])


def test_a_directory_is_not_a_routes_file(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_routes_modules([tmp_path])


def test_non_python_file_is_a_config_error_naming_it(tmp_path):
    other = tmp_path / "api.txt"
    other.write_text("x = 1\n")
    with pytest.raises(ConfigError, match=r"api\.txt: expected a Python file"):
        load_routes_modules([other])


def test_import_error_is_a_config_error_naming_the_file_and_cause(tmp_path, forget_loaded_modules):
    broken = tmp_path / "broken_api.py"
    broken.write_text("import a_module_that_does_not_exist_anywhere\n")
    with pytest.raises(ConfigError) as raised:
        load_routes_modules([broken])
    message = str(raised.value)
    assert "broken_api.py" in message
    assert "ModuleNotFoundError" in message
    assert not any("broken_api" in name for name in sys.modules)


def test_syntax_error_is_a_config_error_naming_the_file(tmp_path, forget_loaded_modules):
    broken = tmp_path / "syntax_api.py"
    broken.write_text("def (:\n")
    with pytest.raises(ConfigError, match="syntax_api.py.*SyntaxError"):
        load_routes_modules([broken])


def test_a_bad_route_in_the_module_is_a_config_error_naming_the_file(
    tmp_path, module_registry, forget_loaded_modules
):
    bad = tmp_path / "bad_route.py"
    bad.write_text('import stauth_server as sa\n@sa.route("no-slash")\ndef h(request):\n    return 1\n')
    with pytest.raises(ConfigError, match="bad_route.py.*RouteError"):
        load_routes_modules([bad])
    assert module_registry.routes == []
