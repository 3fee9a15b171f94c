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


def test_version_prints_ours_streamlits_and_the_server_in_use():
    from stauth_server import __version__

    import streamlit

    result = run_cli("--version")
    assert result.returncode == 0
    assert f"streamlit-auth {__version__}" in result.stdout
    assert f"Streamlit {streamlit.__version__}: Tornado server" in result.stdout  # ours, Streamlit's, the server


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


def test_config_toml_env_vars_and_script_args_mean_what_they_mean_for_streamlit(tmp_path, generation):
    with run_app(
        CFG, routes=["api.py"], extra_args=["--", "--flag", "value"], generation=generation, tmp_path=tmp_path,
        base_path="fromenv", base_path_on_command_line=False,
        env={"STREAMLIT_SERVER_BASE_URL_PATH": "fromenv"},
    ) as app:
        answer = requests.get(app.url("/api/argv"), timeout=5).json()
    assert answer == {"argv": ["--flag", "value"], "max_upload": 7}


def test_unsupported_streamlit_version_stops_with_a_clear_message(monkeypatch):
    import streamlit
    from click.testing import CliRunner

    from stauth_server.cli import main

    monkeypatch.setattr(streamlit, "__version__", "1.68.0")
    result = CliRunner().invoke(main, ["run", str(CFG / "app.py")])
    assert result.exit_code == 1
    assert "Streamlit 1.68.0 is installed" in result.output
    assert "pip install 'streamlit>=1.56.0,<1.68'" in result.output


GOOD_AUTH = """[auth]
redirect_uri = "http://127.0.0.1:8501/oauth2callback"
cookie_secret = "a-cookie-secret-that-is-long-enough-0123456789"
client_id = "app"
client_secret = "s"
server_metadata_url = "https://id.example.org/.well-known/openid-configuration"
"""


def start_with_secrets(tmp_path: Path, secrets: str, *extra: str) -> subprocess.CompletedProcess:
    app_dir = tmp_path / "app"
    (app_dir / ".streamlit").mkdir(parents=True)
    (app_dir / "app.py").write_text("import streamlit as st\nst.write('x')\n")
    (app_dir / ".streamlit" / "secrets.toml").write_text(secrets)
    return run_cli("run", "app.py", "--server.headless", "true", "--server.port", "0",
                   "--browser.gatherUsageStats", "false", *extra, cwd=app_dir, timeout=30)


def test_missing_cookie_secret_stops_start_up_naming_the_key(tmp_path):
    result = start_with_secrets(tmp_path, GOOD_AUTH.replace('cookie_secret = "a-cookie-secret-that-is-long-enough-0123456789"\n', ""))
    assert result.returncode == 2
    assert "cookie_secret" in result.stderr and "missing" in result.stderr


def test_short_cookie_secret_is_refused(tmp_path):
    result = start_with_secrets(tmp_path, GOOD_AUTH.replace("a-cookie-secret-that-is-long-enough-0123456789", "short"))
    assert result.returncode == 2
    assert "cookie_secret" in result.stderr and "too short" in result.stderr


def test_malformed_default_ttl_stops_start_up_naming_the_key(tmp_path):
    result = start_with_secrets(tmp_path, GOOD_AUTH + 'default_ttl = "7 parsecs"\n')
    assert result.returncode == 2
    assert "default_ttl" in result.stderr


def test_redirect_uri_that_cannot_reach_this_app_is_refused(tmp_path):
    result = start_with_secrets(tmp_path, GOOD_AUTH, "--server.baseUrlPath", "team")
    assert result.returncode == 2
    assert "redirect_uri" in result.stderr and "/team/oauth2callback" in result.stderr


def test_unknown_key_is_warned_about_but_starts(tmp_path, generation):
    app_dir = tmp_path / "app"
    (app_dir / ".streamlit").mkdir(parents=True)
    (app_dir / "app.py").write_text("import streamlit as st\nst.write('x')\n")
    (app_dir / ".streamlit" / "secrets.toml").write_text(
        GOOD_AUTH.replace("[auth]\n", "[auth]\ncookie_secert = 'typo'\n"))
    with run_app(app_dir, generation=generation, tmp_path=tmp_path) as app:
        log = app.log()
    assert "cookie_secert" in log and "unknown key" in log
