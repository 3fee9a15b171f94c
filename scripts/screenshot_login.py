#!/usr/bin/env python3
"""Screenshots of the login page (light, dark, phone) into docs/, from the tour app.

Run: python3 scripts/screenshot_login.py   (needs Debian's Chromium and Playwright)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "stauth_server", "run", "examples/app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if requests.get(f"{base}/_stcore/health", timeout=1).text == "ok":
                    break
            except requests.RequestException:
                time.sleep(0.05)
        (ROOT / "docs").mkdir(exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            shots = [("login-light.png", "light", {"width": 900, "height": 640}, False),
                     ("login-dark.png", "dark", {"width": 900, "height": 640}, True),
                     ("login-phone-dark.png", "dark", {"width": 390, "height": 700}, True)]
            for name, scheme, viewport, with_error in shots:
                context = browser.new_context(color_scheme=scheme, viewport=viewport)
                page = context.new_page()
                page.goto(f"{base}/auth/login")
                if with_error:
                    page.fill("#username", "alice")
                    page.fill("#password", "not-the-password")
                    page.click("button[type=submit]")
                    page.get_by_text("Wrong username or password.").wait_for()
                page.screenshot(path=str(ROOT / "docs" / name))
                context.close()
                print(f"docs/{name}")
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
