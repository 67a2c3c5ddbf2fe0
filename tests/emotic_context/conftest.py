"""Tiny EMOTIC-layout data and one tiny trained run, shared by the emotic_context tests."""

from __future__ import annotations

import pytest
from helpers.emotic import TRAIN_ARGS, run_main, run_mat2py

from emotic_context import demo_data

TINY_PERSONS = {"train": 24, "val": 12, "test": 12}
TINY_SIZE = 32


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory):
    """A generated EMOTIC layout with a 32 px npy cache in ``root/emotic_pre``."""
    root = tmp_path_factory.mktemp("emotic") / "EMOTIC"
    demo_data.generate(root, TINY_PERSONS, seed=3)
    log = run_mat2py(["--data_dir", str(root), "--generate_npy", "--context_size", str(TINY_SIZE),
                      "--body_size", str(TINY_SIZE)])
    return root, log


@pytest.fixture(scope="session")
def tiny_run(tiny_dataset, tmp_path_factory):
    root, _ = tiny_dataset
    run_dir = tmp_path_factory.mktemp("runs") / "tiny"
    metrics = run_main(["--mode", "train_test", "--data_path", str(root / "emotic_pre"), "--experiment_path",
                        str(run_dir), *TRAIN_ARGS])
    return run_dir, metrics
