#!/usr/bin/env python3
"""Screenshots of the account page (light and dark) into docs/, from a throwaway app.

A local account (alice) signs in through the login form, then the account page is shot
with its password form, two-factor set-up and passkeys. Nothing of the tour is changed:
the app, its secrets and its users file live in a temporary folder.

Run: python3 scripts/screenshot_account.py   (needs Debian's Chromium and Playwright)
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "correct horse battery staple"
APP = '''import streamlit as st
import stauth_server as sa

st.title("Team dashboard")
st.link_button("My account", sa.account_url())
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_app(folder: Path, port: int) -> None:
    (folder / ".streamlit").mkdir()
    (folder / "app.py").write_text(APP)
    (folder / ".streamlit" / "secrets.toml").write_text(
        "[auth]\n"
        f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
        f'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
        'login_title = "Team dashboard"\n\n'
        "[auth.local]\n"
        'users_file = "users.toml"\n')
    subprocess.run([sys.executable, "-m", "stauth_server", "users", "add", str(folder / "users.toml"), "alice",
                    "--name", "Alice Martin", "--email", "alice@example.org", "--password-stdin"],
                   input=PASSWORD, text=True, check=True, stdout=subprocess.DEVNULL)


def main() -> int:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_app(folder, port)
        server = subprocess.Popen(
            [sys.executable, "-m", "stauth_server", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            base = f"http://localhost:{port}"
            for _ in range(300):
                try:
                    if requests.get(f"{base}/_stcore/health", timeout=1).text == "ok":
                        break
                except requests.RequestException:
                    time.sleep(0.05)
            (ROOT / "docs").mkdir(exist_ok=True)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                for scheme in ("light", "dark"):
                    context = browser.new_context(color_scheme=scheme, viewport={"width": 900, "height": 900})
                    page = context.new_page()
                    page.goto(f"{base}/auth/login?next=/auth/account")
                    page.fill("#username", "alice")
                    page.fill("#password", PASSWORD)
                    page.click("button[type=submit]")
                    page.wait_for_url("**/auth/account**")
                    name = f"account-{scheme}.png"
                    page.screenshot(path=str(ROOT / "docs" / name), full_page=True)
                    context.close()
                    print(f"docs/{name}")
                browser.close()
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
