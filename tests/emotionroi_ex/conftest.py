"""A tiny demo EmotionROI shared by the package's tests (written once per session)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# pytest's importlib mode leaves the repo root off sys.path: add it, so the tests do not depend on how
# (or whether) the project was installed.
REPO_ROOT = str(Path(__file__).resolve().parents[2])
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)


from emotionroi_ex.demo_data import write_demo_dataset  # noqa: E402


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory):
    """6 emotions x 5 images (3 train + 2 test each), 48..64 px."""
    return write_demo_dataset(tmp_path_factory.mktemp("eroi") / "EmotionROI", per_class=5, seed=3,
                              size_range=(48, 64))
