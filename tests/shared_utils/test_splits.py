"""The stratified hold-out that stands in for a missing validation split."""

import numpy as np

from shared_utils.splits import stratified_holdout


def test_stratified_holdout_by_hand():
    labels = np.array([0] * 20 + [1] * 10 + [2] * 2 + [3])
    kept, held = stratified_holdout(labels, 0.1, seed=5)
    assert sorted(np.concatenate([kept, held]).tolist()) == list(range(len(labels)))  # a partition
    assert [int((labels[held] == c).sum()) for c in range(4)] == [2, 1, 1, 0]  # round, >= 1, singleton kept
    assert [int((labels[kept] == c).sum()) for c in range(4)] == [18, 9, 1, 1]
    assert list(kept) == sorted(kept) and list(held) == sorted(held)
    again = stratified_holdout(labels, 0.1, seed=5)
    assert np.array_equal(again[1], held)
    assert not np.array_equal(stratified_holdout(labels, 0.1, seed=6)[1], held)
    kept, held = stratified_holdout(labels, 0.0, seed=5)
    assert len(held) == 0 and len(kept) == len(labels)
