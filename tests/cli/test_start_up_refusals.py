"""``streamlit-auth run`` refuses unsafe or unsupported start-ups with exit code 2:
demo credentials off loopback, ``server.useStarlette`` and scripts defining an ASGI app."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from stauth_server.core.sources.local import UsersFile, render
from tests.e2e.harness import GENERATIONS, Generation, RunningApp, _wait_healthy, free_port, run_app, stop_group

REPO = Path(__file__).resolve().parents[2]
DEMO_SECRET = "demo-only-cookie-secret-do-not-use-in-production-0"
OWN_SECRET = "an-operator-generated-secret-0123456789abcdef"
QUIET = ["--server.headless", "true", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]


def start(cwd: Path, *args: str, env: dict[str, str] | None = None,
          generation: Generation = GENERATIONS["st156"]) -> subprocess.CompletedProcess:
    """Run ``streamlit-auth run ARGS`` on ``generation`` to its end (a refused start-up ends at once)."""
    return subprocess.run(
        [*generation.command, "run", *args, *generation.extra_args, "--server.port", str(free_port()), *QUIET],
        cwd=cwd, capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})},
    )


def app_dir(tmp_path: Path, secrets: str = "", script: str = "import streamlit as st\nst.write('x')\n") -> Path:
    folder = tmp_path / "app"
    (folder / ".streamlit").mkdir(parents=True)
    (folder / "app.py").write_text(script)
    (folder / ".streamlit" / "secrets.toml").write_text(secrets)
    return folder


def assert_refused(result: subprocess.CompletedProcess, *phrases: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "streamlit-auth: error:" in result.stderr
    assert "Traceback" not in result.stderr
    for phrase in phrases:
        assert phrase in result.stderr


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a listening TCP socket on ``port`` (Linux /proc)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, _, state = line.split()[1:4]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


LOOPBACK_HEX = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1


@contextmanager
def readme_command(tmp_path: Path) -> Iterator[RunningApp]:
    """The README's first command, from the repository root, with no address of ours."""
    port = free_port()
    log_path = tmp_path / "readme.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "stauth_server", "run", "examples/app.py", "--server.port", str(port), *QUIET],
            cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    app = RunningApp(port, "", log_path, process)
    try:
        _wait_healthy(app, 45)
        yield app
    finally:
        stop_group(process)


# --- the demo ------------------------------------------------------------------------


def test_readme_command_serves_the_demo_on_localhost_only(tmp_path):
    with readme_command(tmp_path) as app:
        addresses = listening_addresses(app.port)
    assert addresses and addresses <= LOOPBACK_HEX
    assert f"URL: http://localhost:{app.port}" in app.log()


def test_demo_examples_on_a_public_address_stop_start_up_naming_both_and_the_fix(generation):
    result = start(REPO, "examples/app.py", "--server.address", "0.0.0.0", generation=generation)
    assert_refused(
        result, "server.address = '0.0.0.0'",
        "cookie_secret is the published demo secret from examples/.streamlit/secrets.toml",
        "demo_users.toml holds demo accounts whose passwords are published (alice, bob)",
        "--server.address localhost",
    )


def test_demo_secret_with_no_address_stops_start_up_as_every_interface(tmp_path, generation):
    result = start(app_dir(tmp_path, f'[auth]\ncookie_secret = "{DEMO_SECRET}"\n'), "app.py", generation=generation)
    assert_refused(result, "every network interface (server.address is not set)", "cookie_secret")


def test_renamed_copy_of_the_demo_users_stops_start_up_off_loopback(tmp_path):
    folder = app_dir(tmp_path, f'[auth]\ncookie_secret = "{OWN_SECRET}"\n[auth.local]\nusers_file = "staff.toml"\n')
    demo = UsersFile(REPO / "examples" / "demo_users.toml").accounts().values()
    (folder / "staff.toml").write_text(render(demo))
    result = start(folder, "app.py", "--server.address", "192.0.2.1")
    assert_refused(result, "staff.toml holds demo accounts whose passwords are published (alice, bob)",
                   "streamlit-auth users add")
    assert "cookie_secret is the published" not in result.stderr


def test_demo_secret_on_loopback_starts(tmp_path, generation):
    folder = app_dir(tmp_path, f'[auth]\ncookie_secret = "{DEMO_SECRET}"\n')
    with run_app(folder, generation=generation, tmp_path=tmp_path) as app:  # --server.address 127.0.0.1
        assert app.process.poll() is None
        assert listening_addresses(app.port) == {"0100007F"}


# --- server.useStarlette (1.56) and what Streamlit would serve without us ----------------


@pytest.mark.parametrize("where", ["flag", "environment", "config.toml"])
def test_use_starlette_on_1_56_is_served_by_uvicorn_behind_our_front(tmp_path, where):
    """Streamlit 1.56's own Starlette server, chosen any way Streamlit reads the option,
    runs with our endpoints in front (never without them)."""
    folder = app_dir(tmp_path)
    (folder / "api.py").write_text("import stauth_server as sa\n\n@sa.route('/api/ping')\n"
                                   "def ping(request):\n    return {'pong': True}\n")
    args, env = ["--routes", "api.py"], {}
    if where == "flag":
        args += ["--server.useStarlette", "true"]
    elif where == "environment":
        env = {"STREAMLIT_SERVER_USE_STARLETTE": "true"}
    else:
        (folder / ".streamlit" / "config.toml").write_text("[server]\nuseStarlette = true\n")
    with run_app(folder, generation=GENERATIONS["st156"], tmp_path=tmp_path, extra_args=args, env=env) as app:
        health = requests.get(app.url("/_stcore/health"), timeout=5)
        assert health.headers.get("server") == "uvicorn"
        assert requests.get(app.url("/api/ping"), timeout=5).json() == {"pong": True}


def test_use_starlette_without_its_packages_stops_start_up_naming_the_fix(monkeypatch):
    from stauth_server.cli import startup_checks

    monkeypatch.setattr(startup_checks.importlib.util, "find_spec",
                        lambda name: None if name == "uvicorn" else object())
    problem = startup_checks.starlette_server_problem(True, "command-line argument or environment variable")
    assert problem is not None
    assert "uvicorn is not installed" in problem and "streamlit[starlette]" in problem


@pytest.mark.parametrize("script", [
    "from streamlit.starlette import App\napp = App('page.py')\n",
    "from fastapi import FastAPI\napp = FastAPI()\n",
])
def test_script_defining_an_asgi_app_stops_start_up_naming_it(tmp_path, script, generation):
    result = start(app_dir(tmp_path, script=script), "app.py", "--server.address", "127.0.0.1", generation=generation)
    assert_refused(result, "app.py defines an ASGI app ('app')", "not supported yet")


def test_every_problem_is_reported_at_once(tmp_path, generation):
    folder = app_dir(tmp_path, f'[auth]\ncookie_secret = "{DEMO_SECRET}"\n',
                     script="from fastapi import FastAPI\napi = FastAPI()\n")
    result = start(folder, "app.py", generation=generation)
    assert_refused(result, "defines an ASGI app ('api')",
                   "refusing to serve demo credentials on every network interface")
