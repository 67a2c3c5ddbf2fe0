"""Real FER2013 (../shared): a short CPU training on a subset must beat the majority class on PublicTest."""

from __future__ import annotations

import json

import pytest

from fer_seresnet import train
from shared_utils.runs import parse_args_with_config


@pytest.mark.shared_data
@pytest.mark.slow
def test_short_training_beats_majority_on_public_test(real_fer2013, tmp_path):
    root = real_fer2013
    # ~1 minute of CPU: 3,500 stratified training images, 3 epochs of a small plain CNN; validation is a 2%
    # holdout of Training, the untouched PublicTest is scored once at the end.
    argv = ["--data-path", str(root), "--arch", "cnn", "--width", "16", "--train-subset", "3500", "--epochs", "3",
            "--batch-size", "32", "--opt", "adamw", "--lr", "0.002", "--weight-decay", "0.01",
            "--lr-warmup-epochs", "0", "--label-smoothing", "0", "--holdout-fraction", "0.02", "--threads", "1",
            "--no-eval-ten-crop", "--output", str(tmp_path / "runs"), "--experiment", "subset"]
    result = train.main(parse_args_with_config(train.get_args_parser(), argv))
    record = json.loads((tmp_path / "runs" / "subset" / "results.json").read_text())
    assert record["split"] == "public_test" and record["data"] == "real"
    # The whole PublicTest split was scored, with its known class counts (rows of the confusion matrix).
    assert [sum(row) for row in record["extra"]["confusion_matrix"]] == [467, 56, 496, 895, 653, 415, 607]
    majority = record["baseline"]["accuracy"]
    assert majority == pytest.approx(895 / 3589, abs=1e-4)  # "happy", the Training majority class
    assert result["accuracy"] >= majority + 0.10, (result["accuracy"], majority)
    # PublicTest images with an exact copy in Training are disclosed, and the accuracy without them reported
    assert record["extra"]["train_duplicates"] == 280 and record["extra"]["train_duplicates_other_label"] == 7
    assert abs(record["extra"]["accuracy_without_train_duplicates"] - result["accuracy"]) < 0.05
