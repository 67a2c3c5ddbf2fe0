"""A seeded, stratified hold-out: the validation split when a dataset ships none (or withholds it)."""

from __future__ import annotations

import numpy as np


def stratified_holdout(labels, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split sample indices into ``(kept, held_out)``, both sorted, class by class.

    A class with ``n >= 2`` samples gives ``round(fraction * n)`` of them, at least 1 and at most
    ``n - 1``, to the held-out part, so every class stays in both parts; a class with one sample
    stays in the kept part; ``fraction <= 0`` holds nothing out.  The same ``seed`` gives the same split.
    """
    labels = np.asarray(labels).ravel()
    if fraction <= 0:
        return np.arange(len(labels)), np.arange(0)
    rng = np.random.default_rng(seed)
    kept, held_out = [np.arange(0)], [np.arange(0)]
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_held = min(max(round(len(members) * fraction), 1), len(members) - 1) if len(members) >= 2 else 0
        held_out.append(members[:n_held])
        kept.append(members[n_held:])
    return np.sort(np.concatenate(kept)), np.sort(np.concatenate(held_out))
