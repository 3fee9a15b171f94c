"""Session-store settings that cannot work stop ``streamlit-auth run`` with a message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SECRET = "0123456789abcdef0123456789abcdef-cli"


def start(app_dir: Path, store_url: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    (app_dir / ".streamlit").mkdir(parents=True, exist_ok=True)
    (app_dir / "app.py").write_text('import streamlit as st\nst.write("hi")\n')
    (app_dir / "users.toml").write_text("")
    (app_dir / ".streamlit" / "secrets.toml").write_text(
        f'[auth]\ncookie_secret = "{SECRET}"\n[auth.local]\nusers_file = "users.toml"\n'
        f'[auth.store]\nurl = "{store_url}"\n')
    return subprocess.run([sys.executable, "-m", "stauth_server", "run", "app.py", "--server.headless", "true",
                           "--server.address", "127.0.0.1", "--server.port", "0",
                           "--browser.gatherUsageStats", "false"],
                          cwd=app_dir, capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})})


def test_a_redis_url_without_the_redis_package_names_the_extra_to_install(tmp_path):
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "redis.py").write_text('raise ImportError("no redis here")\n')
    result = start(tmp_path / "app", "redis://127.0.0.1:6399/0", {"PYTHONPATH": str(fake)})
    assert result.returncode == 2
    assert 'pip install "streamlit-auth[redis]"' in result.stderr and "[auth.store] url" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_sqlite_store_that_cannot_be_created_stops_start_up_naming_the_key(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be")
    result = start(tmp_path / "app", f"sqlite://{blocker}/sessions.db")
    assert result.returncode == 2
    assert "[auth.store] url" in result.stderr and "Traceback" not in result.stderr


def test_an_unknown_store_scheme_stops_start_up_naming_the_key(tmp_path):
    result = start(tmp_path / "app", "postgres://db/sessions")
    assert result.returncode == 2
    assert "[auth.store] url" in result.stderr and "sqlite://" in result.stderr
