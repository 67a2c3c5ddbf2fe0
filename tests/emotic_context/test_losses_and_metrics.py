"""Losses (values the port documents for its own losses), thresholds, metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers.emotic import port_equal_pr_threshold
from sklearn.metrics import precision_recall_curve

from emotic_context.dataset import CATEGORIES
from emotic_context.evaluation import (
    emotic_metrics,
    equal_pr_threshold,
    load_thresholds,
    prior_baseline,
    save_thresholds,
)
from emotic_context.losses import ContinuousLoss, DiscreteLoss, inverse_log_weights


def test_dynamic_discrete_loss_matches_the_ports_documented_value():
    target = torch.zeros((2, 26))
    target[0, 0:13] = 1
    target[1, 13:] = 2
    target[:, 13] = 0
    pred = torch.ones((2, 26))
    # Categories 0-12 counted once (weight 1/ln 2.2, wrong in row 1), 14-25 counted twice (1/ln 3.2, wrong in
    # both rows), 13 absent (1e-4, wrong in both rows): the port's own test prints 37.1217.
    expected = 13 / math.log(2.2) + 24 / math.log(3.2) + 2e-4
    loss = DiscreteLoss("dynamic")(pred, target)
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    assert loss.item() == pytest.approx(37.1217, abs=1e-4)


def test_mean_and_static_weights():
    pred, target = torch.zeros(3, 26), torch.ones(3, 26)
    assert DiscreteLoss("mean")(pred, target).item() == pytest.approx(3.0)
    counts = np.arange(26) * 100.0
    static = DiscreteLoss("static", train_counts=counts)
    expected = inverse_log_weights(torch.tensor(counts)).numpy()
    assert expected[0] == pytest.approx(1e-4) and expected[1] == pytest.approx(1 / math.log(101.2))
    assert static(pred, target).item() == pytest.approx(3 * expected.sum(), rel=1e-5)
    with pytest.raises(ValueError):
        DiscreteLoss("static")


def test_continuous_losses_match_the_ports_documented_values():
    target = torch.tensor([[0.9] * 3, [0.2] * 3])
    pred = torch.tensor([[0.7] * 3, [0.25] * 3])
    assert ContinuousLoss("Smooth L1")(pred * 10, target * 10).item() == pytest.approx(4.875)
    assert ContinuousLoss("L2")(pred * 10, target * 10).item() == pytest.approx(12.0)


def test_threshold_where_precision_meets_recall_is_found_when_the_port_returns_zero():
    # P == R exactly only where as many persons are predicted as are positive; tied scores skip that point.
    y = np.array([1, 1, 0, 0, 1, 0, 0, 1, 0, 0])
    scores = np.array([0.9, 0.5, 0.5, 0.5, 0.5, 0.2, 0.2, 0.2, 0.1, 0.1])
    assert port_equal_pr_threshold(y, scores) == 0.0
    threshold = equal_pr_threshold(y, scores)
    precision, recall, thresholds = precision_recall_curve(y, scores)
    k = int(np.where(thresholds == threshold)[0][0])
    assert abs(precision[k] - recall[k]) == pytest.approx(np.abs(precision[:-1] - recall[:-1]).min())
    assert threshold == 0.5  # P = 3/5, R = 3/4: the closest pair
    # Without ties both rules agree.
    rng = np.random.default_rng(0)
    y = (rng.random(200) < 0.3).astype(int)
    scores = y * 0.3 + rng.random(200)
    assert equal_pr_threshold(y, scores) == port_equal_pr_threshold(y, scores)
    assert equal_pr_threshold(np.zeros(5), np.arange(5.0)) == float("inf")


def test_authors_thresholds_load(shared):
    values = load_thresholds(shared("data/emotic/thresholds_rkosti.mat"))
    assert values.shape == (26,)
    assert values[0] == pytest.approx(0.05834434, rel=1e-6)
    assert values[CATEGORIES.index("Engagement")] == pytest.approx(0.41415867, rel=1e-6)


def test_thresholds_round_trip_and_bad_file(tmp_path):
    values = np.linspace(0.1, 0.9, 26)
    values[3] = np.inf
    save_thresholds(tmp_path, values)
    assert np.array_equal(load_thresholds(tmp_path / "val_thresholds.npy"), values)
    assert np.array_equal(load_thresholds(tmp_path / "val_thresholds.json"), values)
    np.save(tmp_path / "short.npy", np.zeros(5))
    with pytest.raises(SystemExit, match="short.npy: expected 26 thresholds, found 5"):
        load_thresholds(tmp_path / "short.npy")


def test_metrics_perfect_and_prior_baseline():
    rng = np.random.default_rng(1)
    cat = (rng.random((40, 26)) < 0.3).astype(np.float32)
    cat[0] = 1  # every category has a positive
    vad = rng.uniform(1, 10, (40, 3))
    perfect = emotic_metrics(cat, cat + 0.01 * rng.random(cat.shape), vad, vad, thresholds=np.full(26, 0.5))
    assert perfect["mAP_percent"] == pytest.approx(100.0) and perfect["vad_mae"] == 0.0
    assert perfect["mean_f1_at_val_thresholds"] == pytest.approx(1.0)
    scores, vad_pred = prior_baseline(cat, vad, 40)
    base = emotic_metrics(cat, scores, vad, vad_pred)
    # Constant scores: AP of a category is its prevalence.
    assert base["ap_percent/Anger"] == pytest.approx(100 * cat[:, 1].mean())
    assert base["vad_mae/valence"] == pytest.approx(np.abs(vad[:, 0] - vad[:, 0].mean()).mean())
