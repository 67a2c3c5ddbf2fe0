"""A tiny demo EmoReact shared by the bodily_tsn tests (built once per session)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

# The venv's editable install predates the package folders (its finder maps only shared_utils) and
# pytest's importlib mode does not put the repo root on sys.path: add it, so tests see bodily_tsn.
REPO_ROOT = str(Path(__file__).resolve().parents[2])
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from bodily_tsn.demo_data import make_demo_dataset  # noqa: E402

torch.set_num_threads(1)  # the dev machine's cores are shared; one thread is faster under contention


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory):
    return make_demo_dataset(tmp_path_factory.mktemp("emoreact_demo"), {"train": 8, "val": 4, "test": 4},
                             show_progress=False)
