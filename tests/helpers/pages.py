"""Serving a package's page for a test, and a headless Chromium that can reach nothing but it."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serve(module: str, *args: str, timeout: float = 120.0):
    """``python -m <module> --port N ARGS`` in a subprocess; yields the page's URL once it answers; stopped after."""
    port = free_port()
    env = {**os.environ, "HF_HUB_DISABLE_TELEMETRY": "1", "REPRO_NO_PROGRESS": "1"}
    process = subprocess.Popen([sys.executable, "-m", module, "--port", str(port), *args], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise AssertionError(f"{module} exited with {process.returncode}:\n{process.stdout.read()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{module} did not answer on {url} within {timeout:.0f} s")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


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
