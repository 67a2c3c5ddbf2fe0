"""Serving a package's page for a test, and a headless Chromium that can reach nothing but it."""

from __future__ import annotations

import contextlib
import os
import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"


def serve(module: str, *args: str, timeout: float = 120.0):
    from shared_utils.webapp import served

    return served(module, *args, timeout=timeout)


def chromium_or_skip() -> str:
    """Debian's chromium; skips without it, fails when REQUIRE_BROWSER=1 (.ci/run)."""
    if shutil.which("chromium") or os.path.exists(CHROMIUM):
        return shutil.which("chromium") or CHROMIUM
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail("chromium not found and REQUIRE_BROWSER=1 (apt-get install -y chromium)")
    pytest.skip("chromium not installed (apt-get install -y chromium)")


@contextlib.contextmanager
def browser_page(url: str, width: int = 1280, height: int = 1100):
    """A Playwright page on ``url`` in headless Chromium that resolves no host but 127.0.0.1."""
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True,
            args=["--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"])
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(url, wait_until="networkidle")
            yield page
        finally:
            browser.close()
