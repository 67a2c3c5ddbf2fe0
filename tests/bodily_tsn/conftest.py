"""A tiny demo EmoReact shared by the bodily_tsn tests (built once per session)."""

from __future__ import annotations

import pytest
import torch

from bodily_tsn.demo_data import make_demo_dataset

torch.set_num_threads(1)  # the dev machine's cores are shared; one thread is faster under contention


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory):
    return make_demo_dataset(tmp_path_factory.mktemp("emoreact_demo"), {"train": 8, "val": 4, "test": 4},
                             show_progress=False)
