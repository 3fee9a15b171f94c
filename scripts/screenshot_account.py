#!/usr/bin/env python3
"""Screenshots of the account page (light and dark) into docs/, from a throwaway app.

A local account (alice) signs in through the login form, then the account page is shot
with its password form, two-factor set-up and passkeys. Nothing of the tour is changed:
the app, its secrets and its users file live in a temporary folder.

Run: python3 scripts/screenshot_account.py   (needs Debian's Chromium and Playwright)
"""

from __future__ import annotations

import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _served import CHROMIUM, CHROMIUM_ARGS, free_port, served  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery staple"
APP = '''import streamlit as st
import stauth_server as sa

st.title("Team dashboard")
st.link_button("My account", sa.account_url())
'''


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
    (ROOT / "docs").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_app(folder, port)
        with served("app.py", folder, port), sync_playwright() as playwright:
            base = f"http://localhost:{port}"  # the origin of redirect_uri (passkeys)
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
