#!/usr/bin/env python3
"""Screenshots of the login page (light, dark, phone) into docs/, from the tour app.

Run: python3 scripts/screenshot_login.py   (needs Debian's Chromium and Playwright)
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _served import CHROMIUM, CHROMIUM_ARGS, served  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    (ROOT / "docs").mkdir(exist_ok=True)
    with served("examples/app.py", ROOT) as port, sync_playwright() as playwright:
        base = f"http://127.0.0.1:{port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
