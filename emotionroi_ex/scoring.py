"""Scoring predicted stimuli maps the paper's way, per image, per emotion and overall, and the
Fig.-6-style comparison grid.

Every map is compared with its ground truth at the ground truth's native size (a prediction made
at another size is resized to it bilinearly).  The ground truth is the stored map / 255, never rescaled;
a network's prediction is clamped to [0, 1]; a baseline with an arbitrary scale is min-max scaled on its
own side before it gets here (``baselines.py``).  Scores: ``shared_utils.metrics.stimuli_map_metrics``
(the paper's MAE, Otsu precision/recall/F, CC, KL, SIM).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from emotionroi_ex import EMOTIONS
from shared_utils.files import atomic_write_csv
from shared_utils.metrics import stimuli_map_metrics
from shared_utils.plotting import overlay_heatmap, save_image_grid

METRIC_NAMES = ("mae", "precision", "recall", "f_measure", "cc", "kl", "sim")


def fit_to(pred: np.ndarray, height: int, width: int) -> np.ndarray:
    pred = np.asarray(pred, np.float32)
    if pred.shape != (height, width):
        pred = cv2.resize(pred, (width, height), interpolation=cv2.INTER_LINEAR)
    return pred


def score_map(pred: np.ndarray, gt01: np.ndarray) -> dict[str, float]:
    """All metrics of one predicted map (on the ground truth's [0, 1] scale; clamped) against one
    ground-truth map in [0, 1], at the ground truth's size."""
    return stimuli_map_metrics(fit_to(pred, *gt01.shape), gt01)


def summarize(per_image: np.ndarray, labels) -> dict[str, float]:
    """Means over images (``per_image``: N x len(METRIC_NAMES)); per-emotion values as ``<metric>/<emotion>``."""
    per_image = np.asarray(per_image, np.float64)
    labels = np.asarray(labels)
    out = {name: float(per_image[:, k].mean()) for k, name in enumerate(METRIC_NAMES)}
    for c, emotion in enumerate(EMOTIONS):
        rows = per_image[labels == c]
        for k, name in enumerate(METRIC_NAMES):
            out[f"{name}/{emotion}"] = float(rows[:, k].mean()) if len(rows) else None
    out["num_images"] = int(len(per_image))
    return out


def evaluate_map_function(dataset, predict: Callable[[int], np.ndarray]) -> tuple[dict, np.ndarray]:
    """Score ``predict(index) -> map`` over every image of an :class:`EmotionROI` split."""
    rows = np.array([[score_map(predict(i), dataset.gt_map(i))[m] for m in METRIC_NAMES] for i in range(len(dataset))])
    return summarize(rows, dataset.labels), rows


def write_per_image_csv(path: str | Path, dataset, rows: np.ndarray, indices=None) -> None:
    indices = range(len(dataset)) if indices is None else indices
    atomic_write_csv(path, ["file", "emotion", *METRIC_NAMES],
                     [[dataset.files[i], EMOTIONS[dataset.labels[i]], *(f"{v:.6f}" for v in row)]
                      for i, row in zip(indices, rows)])


# --------------------------------------------------------------------------- network predictions
def forward_map(model, images: torch.Tensor, labels: torch.Tensor | None, size) -> torch.Tensor:
    """Network map (B, H, W) at ``size``; ``labels`` given for the label-conditioned EmoFCNEL."""
    out = model(images) if labels is None else model(images, labels)
    if out.shape[-2:] != tuple(size):
        out = F.interpolate(out.float(), size=tuple(size), mode="bilinear", align_corners=False)
    return out[:, 0].float()


def metrics_predict_fn(conditioned: bool, label_override: int | None = None):
    """``predict_fn`` for ``shared_utils.engine.collect_predictions`` on a batch-size-1 native-resolution
    loader: scores the map right away, so images of different sizes never need stacking and DDP
    gathers small per-image metric rows."""

    def predict(model, batch, rt):
        images, maps, labels, index = batch
        images, labels = rt.to_device(images), labels.to(rt.device)
        if label_override is not None:
            labels = torch.full_like(labels, label_override)
        pred = forward_map(model, images, labels if conditioned else None, maps.shape[-2:]).cpu().numpy()
        gts = maps[:, 0].numpy()
        rows = [[stimuli_map_metrics(p, g)[m] for m in METRIC_NAMES] for p, g in zip(pred, gts)]
        return {"index": index, "metrics": torch.tensor(rows, dtype=torch.float64)}

    return predict


def order_by_index(preds: dict[str, torch.Tensor]) -> tuple[np.ndarray, np.ndarray]:
    """collect_predictions output (rank-interleaved under DDP) back in dataset order."""
    order = torch.argsort(preds["index"])
    return preds["index"][order].numpy(), preds["metrics"][order].numpy()


# --------------------------------------------------------------------------- Fig. 6 grid
def fig6_indices(dataset, count: int = 6) -> list[int]:
    """The first test image of each emotion (then the next ones), ``count`` in all."""
    picked, seen_rounds = [], 0
    while len(picked) < min(count, len(dataset)):
        for c in range(len(EMOTIONS)):
            members = [i for i, label in enumerate(dataset.labels) if label == c]
            if seen_rounds < len(members) and len(picked) < count:
                picked.append(members[seen_rounds])
        seen_rounds += 1
    return picked


def fig6_grid(dataset, indices, predictors: dict[str, Callable[[int], np.ndarray]], out_png) -> dict[str, list]:
    """Rows: one image each; columns: input, ground truth, then each predictor's map over the image,
    with its MAE under it. Returns ``{predictor: [per-image MAE]}``."""
    tiles, titles, maes = [], [], {name: [] for name in predictors}
    for i in indices:
        image, _ = dataset.load_pair(i)
        image = np.asarray(image)
        gt = dataset.gt_map(i)
        tiles += [image, (gt * 255).astype(np.uint8)]
        titles += [f"{dataset.files[i]}", "ground truth"]
        for name, predict in predictors.items():
            pred = np.clip(fit_to(predict(i), *gt.shape), 0.0, 1.0)
            mae = score_map(pred, gt)["mae"]
            maes[name].append(mae)
            tiles.append(overlay_heatmap(image, pred, alpha=0.6))
            titles.append(f"{name}\nMAE {mae:.3f}")
    save_image_grid(tiles, out_png, titles=titles, ncols=2 + len(predictors))
    return maes
