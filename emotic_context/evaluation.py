"""EMOTIC evaluation: per-category AP, mAP over the 26 categories, VAD mean absolute error on 1..10,
and per-category decision thresholds where precision meets recall on validation.

The port picks the threshold at the first point where precision == recall *exactly* (float
equality) and leaves 0 when that never happens, which is common; here the threshold is the one
whose precision and recall are closest (smallest |P - R|, ties to the lower threshold).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.metrics import precision_recall_curve

from emotic_context.dataset import CATEGORIES, VAD_NAMES
from shared_utils import metrics


def equal_pr_threshold(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Score threshold where precision and recall are closest; +inf when the category has no positive."""
    y_true = np.asarray(y_true) > 0.5
    if not y_true.any():
        return float("inf")
    precision, recall, thresholds = precision_recall_curve(y_true, np.asarray(scores, dtype=np.float64))
    gap = np.abs(precision[:-1] - recall[:-1])  # the last (P=1, R=0) point has no threshold
    return float(thresholds[int(np.argmin(gap))])


def validation_thresholds(cat_true: np.ndarray, cat_scores: np.ndarray) -> np.ndarray:
    return np.array([equal_pr_threshold(cat_true[:, j], cat_scores[:, j]) for j in range(cat_true.shape[1])])


THRESHOLDS_FILE = "val_thresholds.npy"  # the port's name; --mode inference reads it from the run folder


def save_thresholds(run_dir: str | Path, thresholds: np.ndarray) -> Path:
    """``val_thresholds.npy`` (the port's file) and a readable ``val_thresholds.json``."""
    from shared_utils.files import atomic_write, atomic_write_text

    run_dir = Path(run_dir)
    atomic_write(run_dir / THRESHOLDS_FILE, lambda handle: np.save(handle, np.asarray(thresholds, np.float64)))
    text = json.dumps({name: (None if not np.isfinite(t) else float(t)) for name, t in zip(CATEGORIES, thresholds)},
                      indent=1)
    atomic_write_text(run_dir / "val_thresholds.json", text)
    return run_dir / THRESHOLDS_FILE


def load_thresholds(path: str | Path) -> np.ndarray:
    """26 thresholds from our ``.npy``/``.json`` or the authors' ``.mat`` (key ``thresholds``)."""
    path = Path(path)
    if not path.is_file():
        raise SystemExit(f"error: {path}: thresholds file not found")
    try:
        if path.suffix == ".mat":
            from scipy.io import loadmat

            mat = loadmat(str(path))
            if "thresholds" not in mat:
                raise SystemExit(f"error: {path}: no 'thresholds' variable")
            values = np.asarray(mat["thresholds"], dtype=np.float64).reshape(-1)
        elif path.suffix == ".json":
            data = json.loads(path.read_text())
            values = np.array([np.inf if data.get(n) is None else float(data[n]) for n in CATEGORIES])
        else:
            values = np.asarray(np.load(path), dtype=np.float64).reshape(-1)
    except SystemExit:
        raise
    except Exception as exc:
        raise SystemExit(f"error: {path}: cannot read thresholds ({type(exc).__name__}: {exc})") from None
    if values.shape != (len(CATEGORIES),):
        raise SystemExit(f"error: {path}: expected {len(CATEGORIES)} thresholds, found {values.size}")
    return values


def emotic_metrics(cat_true: np.ndarray, cat_scores: np.ndarray, vad_true: np.ndarray, vad_pred: np.ndarray,
                   thresholds: np.ndarray | None = None) -> dict:
    """Flat metric dict: ``mAP_percent``, ``ap_percent/<cat>``, ``vad_mae`` (mean of V, A, D) and per dimension;
    with ``thresholds``, also the mean per-category F1 and the label-set Jaccard of the thresholded predictions."""
    ap = metrics.average_precision_per_label(cat_true, cat_scores, list(CATEGORIES))
    mean_ap = metrics.mean_average_precision(cat_true, cat_scores, list(CATEGORIES))
    mae = metrics.mae_per_dimension(vad_true, vad_pred, list(VAD_NAMES))
    out = {"mAP_percent": None if mean_ap is None else 100.0 * mean_ap, "vad_mae": mae["mean"]}
    out.update({f"vad_mae/{name}": mae[name] for name in VAD_NAMES})
    out.update({f"ap_percent/{name}": None if v is None else 100.0 * v for name, v in ap.items()})
    if thresholds is not None:
        predicted = cat_scores > thresholds[None, :]  # as inference, and the port's torch.gt (inference.py:73)
        truth = cat_true > 0.5
        tp = (predicted & truth).sum(0)
        f1 = 2 * tp / np.maximum(predicted.sum(0) + truth.sum(0), 1)
        out["mean_f1_at_val_thresholds"] = float(f1[truth.any(0)].mean()) if truth.any() else None
        union = (predicted | truth).sum(1)
        out["jaccard_at_val_thresholds"] = float(np.mean((predicted & truth).sum(1) / np.maximum(union, 1)))
    return out


def prior_baseline(train_cat: np.ndarray, train_vad: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The trivial predictor: training label frequencies as scores, training mean VAD."""
    prior = np.asarray(train_cat, dtype=np.float64).mean(axis=0)
    return np.tile(prior, (n, 1)), np.tile(np.asarray(train_vad, dtype=np.float64).mean(axis=0), (n, 1))


def ap_table_markdown(metrics_by_name: dict[str, dict]) -> str:
    """Per-category AP (%) table, one column per entry of ``metrics_by_name`` (e.g. ours, baseline)."""
    names = list(metrics_by_name)
    lines = ["| category | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]

    def fmt(value):
        return "n/a" if value is None else f"{value:.2f}"

    for cat in CATEGORIES:
        lines.append(f"| {cat} | " + " | ".join(fmt(metrics_by_name[n].get(f"ap_percent/{cat}")) for n in names) + " |")
    lines.append("| **mAP** | " + " | ".join(fmt(metrics_by_name[n].get("mAP_percent")) for n in names) + " |")
    for dim in ("vad_mae/valence", "vad_mae/arousal", "vad_mae/dominance", "vad_mae"):
        lines.append(f"| {dim} | " + " | ".join(fmt(metrics_by_name[n].get(dim)) for n in names) + " |")
    return "\n".join(lines) + "\n"
