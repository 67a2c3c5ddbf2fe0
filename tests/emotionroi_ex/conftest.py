"""A tiny demo EmotionROI shared by the package's tests (written once per session)."""

from __future__ import annotations

import pytest

from emotionroi_ex.demo_data import write_demo_dataset


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory):
    """6 emotions x 5 images (3 train + 2 test each), 48..64 px."""
    return write_demo_dataset(tmp_path_factory.mktemp("eroi") / "EmotionROI", per_class=5, seed=3,
                              size_range=(48, 64))
