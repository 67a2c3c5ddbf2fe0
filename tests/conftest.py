"""Shared test fixtures: the real data in ../shared, and quiet progress bars."""

from __future__ import annotations

import os

import pytest
import torch
from helpers.shared_data import shared_path

import shared_utils  # noqa: F401  (before any torchvision import in a test module: CPU-only torch fix)

os.environ.setdefault("REPRO_NO_PROGRESS", "1")
# Tests never download: a registered weights file that is not in the cache is an error at once.
os.environ.setdefault("VISUAL_EMOTION_OFFLINE", "1")

# Tests use tiny tensors, where extra intra-op threads cost more than they give; and when the cores are
# busy with other work, OpenMP threads spin-waiting on each other run 10-20x slower. One thread, unless told.
torch.set_num_threads(int(os.environ.get("REPRO_TEST_THREADS", "1")))


@pytest.fixture
def shared():
    """``shared("data/fer2013/...")`` -> Path, with the skip/fail rule of :func:`shared_path`."""
    return shared_path


@pytest.fixture(scope="module")
def monkeypatch_module():
    """monkeypatch for module-scoped fixtures (pytest's own is function-scoped)."""
    with pytest.MonkeyPatch.context() as patch:
        yield patch
