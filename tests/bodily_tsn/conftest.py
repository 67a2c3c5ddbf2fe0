"""A tiny demo EmoReact shared by the bodily_tsn tests (built once per session)."""

from __future__ import annotations

import pytest

from bodily_tsn.demo_data import make_demo_dataset


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory):
    return make_demo_dataset(tmp_path_factory.mktemp("emoreact_demo"), {"train": 8, "val": 4, "test": 4},
                             show_progress=False)
