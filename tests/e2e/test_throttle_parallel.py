"""Password throttling holds when the guesses come all at once, against a real server."""

from __future__ import annotations

import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from .harness import APPS, run_app
from .test_sign_in import SECRET, write_secrets


@pytest.fixture()
def app(tmp_path, generation):
    app_dir = tmp_path / "app"
    shutil.copytree(APPS / "rbac", app_dir)
    subprocess.run([sys.executable, "-m", "stauth_server", "users", "add", "users.toml", "alice",
                    "--password-stdin"], cwd=app_dir, input="alice-password-123\n", text=True, check=True,
                   capture_output=True)
    write_secrets(app_dir, f"""
[auth]
cookie_secret = "{SECRET}"

[auth.local]
users_file = "users.toml"

[auth.store]
url = "memory://"
""")
    with run_app(app_dir, generation=generation, tmp_path=tmp_path) as running:
        yield running


def test_ten_parallel_wrong_passwords_are_all_counted_before_any_password_work(app):
    """Each attempt counts before argon2 runs: of ten sent at once, only the three free
    ones are checked (401); the other seven are refused unchecked (429)."""
    origin = app.url("").rstrip("/").rsplit(app.base_path, 1)[0] if app.base_path else app.url("").rstrip("/")

    def attempt(secret: str) -> int:
        return requests.post(app.url("/auth/login"), allow_redirects=False, timeout=30,
                             headers={"Origin": origin, "Sec-Fetch-Site": "same-origin"},
                             data={"username": "alice", "password": secret, "next": "/"}).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(attempt, [f"wrong-{i}" for i in range(10)]))
    assert sorted(statuses) == [401] * 3 + [429] * 7, statuses
    assert attempt("alice-password-123") == 429  # even the right password waits now
