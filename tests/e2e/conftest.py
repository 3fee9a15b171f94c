"""Fixtures for end-to-end tests: a real Chromium via Playwright (Debian's build)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .harness import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One Chromium per test module; missing Chromium or Playwright fails, never skips.

    Module scope: Playwright's sync API holds an event loop while it runs, which would
    break asyncio tests collected after it.
    """
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (see .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser):
    """A fresh browser profile (cookie jar) per test."""
    ctx = browser.new_context()
    ctx.set_default_timeout(20_000)
    yield ctx
    ctx.close()
