"""Helpers shared by the emotic_context tests (a plain module: importlib mode cannot import conftest)."""

from __future__ import annotations

import contextlib
import io

import numpy as np
from sklearn.metrics import precision_recall_curve

from emotic_context import main as emotic_main
from emotic_context import mat2py, options
from shared_utils.runs import parse_args_with_config

TRAIN_ARGS = ["--epochs", "2", "--batch_size", "8", "--learning_rate", "1e-3", "--lr_step", "1", "--seed", "1",
              "--deterministic", "--context_weights", "none", "--body_weights", "none", "--select_by", "val_map"]


def run_main(argv: list[str]):
    return emotic_main.main(parse_args_with_config(options.main_parser(), argv))


def run_mat2py(argv: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        mat2py.main(options.mat2py_parser().parse_args(argv))
    return out.getvalue()


def port_equal_pr_threshold(y_true: np.ndarray, scores: np.ndarray) -> float:
    """The port's rule (exact float equality, else 0): what emotic_context.evaluation.equal_pr_threshold fixes."""
    precision, recall, thresholds = precision_recall_curve(np.asarray(y_true) > 0.5, scores)
    for k in range(len(thresholds)):
        if precision[k] == recall[k]:
            return float(thresholds[k])
    return 0.0
