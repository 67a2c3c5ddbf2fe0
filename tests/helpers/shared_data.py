"""The real data in ../shared (``SHARED_DIR``): tests that use it skip without it, and fail when
REQUIRE_SHARED_DATA=1 (CI). A plain module, so session fixtures in any conftest can use it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = Path(os.environ.get("SHARED_DIR", REPO_ROOT.parent / "shared"))


def shared_path(relative: str) -> Path:
    """Path to real data under ../shared; skips the test when absent (fails if REQUIRE_SHARED_DATA=1)."""
    path = SHARED_DIR / relative
    if not path.exists():
        message = f"real data {path} not found"
        if os.environ.get("REQUIRE_SHARED_DATA") == "1":
            pytest.fail(message + " and REQUIRE_SHARED_DATA=1")
        pytest.skip(message)
    return path
