"""The paper's losses, with the port's conventions.

Discrete: weighted squared error summed over the batch, ``sum_i w_i (y_hat_i - y_i)^2``, with
``dynamic`` weights ``w_i = 1 / ln(c + n_i)`` from the batch's counts ``n_i`` (``c = 1.2``; a
category absent from the batch gets 1e-4), ``mean`` weights 1/26, or ``static`` weights: the same
formula on the training set's counts (the port hard-codes such a vector for the real training set;
computing it keeps the option right on any label set).

Continuous (on the 1..10 scale, i.e. the port's ``pred * 10`` vs ``target * 10``): ``L2`` is the
squared error with errors below a margin of 1 ignored; ``Smooth L1`` is ``0.5 e^2`` up to the
margin and ``e - 0.5`` beyond (continuous at margin 1). Both sum over the batch.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

DYNAMIC_C = 1.2
ABSENT_WEIGHT = 1e-4


def inverse_log_weights(counts: torch.Tensor, c: float = DYNAMIC_C) -> torch.Tensor:
    counts = counts.float()
    weights = torch.full_like(counts, ABSENT_WEIGHT)
    present = counts > 0
    weights[present] = 1.0 / torch.log(counts[present] + c)
    return weights


class DiscreteLoss(nn.Module):
    def __init__(self, weight_type: str = "dynamic", num_categories: int = 26, train_counts=None):
        super().__init__()
        if weight_type not in ("dynamic", "mean", "static"):
            raise ValueError(f"unknown discrete loss weight type {weight_type!r}")
        self.weight_type = weight_type
        if weight_type == "mean":
            weights = torch.full((num_categories,), 1.0 / num_categories)
        elif weight_type == "static":
            if train_counts is None:
                raise ValueError("static weights need the training set's per-category counts")
            weights = inverse_log_weights(torch.as_tensor(np.asarray(train_counts), dtype=torch.float32))
        else:
            weights = torch.ones(num_categories)
        self.register_buffer("weights", weights.reshape(1, -1), persistent=False)

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        pred, target = pred.float(), target.float()
        weights = inverse_log_weights(target.sum(dim=0)).unsqueeze(0) if self.weight_type == "dynamic" \
            else self.weights
        return (weights * (pred - target) ** 2).sum()


class ContinuousLoss(nn.Module):
    def __init__(self, loss_type: str = "Smooth L1", margin: float = 1.0):
        super().__init__()
        if loss_type not in ("L2", "Smooth L1"):
            raise ValueError(f"unknown continuous loss type {loss_type!r}")
        self.loss_type, self.margin = loss_type, margin

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        error = (pred.float() - target.float()).abs()
        if self.loss_type == "L2":
            return torch.where(error < self.margin, torch.zeros_like(error), error ** 2).sum()
        return torch.where(error > self.margin, error - 0.5, 0.5 * error ** 2).sum()
