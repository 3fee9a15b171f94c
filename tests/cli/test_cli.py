"""The ``streamlit-auth`` command: options, config, and start-up failures that read well."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import requests

from tests.e2e.harness import run_app

CFG = Path(__file__).parent / "apps" / "cfg"
COMMAND = [sys.executable, "-m", "stauth_server"]


def run_cli(*args: str, cwd: Path = CFG, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*COMMAND, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
    )


def test_version_prints_the_package_version():
    from stauth_server import __version__

    result = run_cli("--version")
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_run_help_lists_streamlit_options_and_ours():
    result = run_cli("run", "--help")
    assert result.returncode == 0
    for option in ("--routes", "--server.port", "--server.baseUrlPath", "--server.headless"):
        assert option in result.stdout


def test_route_on_a_streamlit_path_stops_start_up_naming_both():
    result = run_cli("run", "app.py", "--routes", "collide.py", "--server.headless", "true",
                     "--server.port", "0", "--browser.gatherUsageStats", "false")
    assert result.returncode == 2
    assert "/_stcore/mine" in result.stderr
    assert "/_stcore" in result.stderr.split("collides with", 1)[1]
    assert "Traceback" not in result.stderr


def test_two_routes_with_one_shape_stop_start_up_naming_both():
    result = run_cli("run", "app.py", "--routes", "twice.py", "--server.headless", "true")
    assert result.returncode == 2
    assert "first" in result.stderr and "second" in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_routes_module_stops_start_up_with_its_error():
    result = run_cli("run", "app.py", "--routes", "broken.py", "--server.headless", "true")
    assert result.returncode == 2
    assert "broken.py" in result.stderr and "missing_dependency" in result.stderr


def test_missing_routes_file_is_a_clear_error():
    result = run_cli("run", "app.py", "--routes", "nope.py", "--server.headless", "true")
    assert result.returncode == 2
    assert "nope.py" in result.stderr


def test_config_toml_env_vars_and_script_args_mean_what_they_mean_for_streamlit(tmp_path):
    with run_app(
        CFG, routes=["api.py"], extra_args=["--", "--flag", "value"], tmp_path=tmp_path,
        base_path="fromenv", base_path_on_command_line=False,
        env={"STREAMLIT_SERVER_BASE_URL_PATH": "fromenv"},
    ) as app:
        answer = requests.get(app.url("/api/argv"), timeout=5).json()
    assert answer == {"argv": ["--flag", "value"], "max_upload": 7}


def test_unsupported_streamlit_version_stops_with_a_clear_message(monkeypatch):
    import streamlit
    from click.testing import CliRunner

    from stauth_server.cli import main

    monkeypatch.setattr(streamlit, "__version__", "1.57.0")
    result = CliRunner().invoke(main, ["run", str(CFG / "app.py")])
    assert result.exit_code == 1
    assert "Streamlit 1.57.0 is installed" in result.output
    assert "1.56.0" in result.output
