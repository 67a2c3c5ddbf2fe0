"""Metrics for classification, multilabel scoring, regression and emotion stimuli maps.

NumPy arrays in, Python floats (or dicts of them) out.  An undefined value (a class absent from the
split, a label with one class only) is ``None`` (or NaN inside arrays), never a crash.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import cv2
import numpy as np
from sklearn import metrics as sklearn_metrics
from sklearn.metrics import average_precision_score, roc_auc_score

EPS = 1e-12


def _as_labels(y) -> np.ndarray:
    return np.asarray(y).astype(np.int64).ravel()


def _check_same_length(a: np.ndarray, b: np.ndarray, what: str) -> None:
    if len(a) != len(b):
        raise ValueError(f"{what}: {len(a)} targets but {len(b)} predictions")


# --------------------------------------------------------------------------- single-label classification
def _check_range(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int, what: str) -> None:
    # scikit-learn would silently drop (confusion matrix) or count (F1) an out-of-range label: refuse it
    for name, y in (("targets", y_true), ("predictions", y_pred)):
        if y.size and (y.min() < 0 or y.max() >= num_classes):
            raise ValueError(f"{what}: {name} outside 0..{num_classes - 1}")


def confusion_matrix(y_true, y_pred, num_classes: int) -> np.ndarray:
    """Counts with rows = true class, columns = predicted class (scikit-learn's, over all ``num_classes``)."""
    y_true, y_pred = _as_labels(y_true), _as_labels(y_pred)
    _check_same_length(y_true, y_pred, "confusion_matrix")
    _check_range(y_true, y_pred, num_classes, "confusion_matrix")
    return sklearn_metrics.confusion_matrix(y_true, y_pred, labels=np.arange(num_classes))


def accuracy(y_true, y_pred) -> float:
    y_true, y_pred = _as_labels(y_true), _as_labels(y_pred)
    _check_same_length(y_true, y_pred, "accuracy")
    return float(sklearn_metrics.accuracy_score(y_true, y_pred)) if y_true.size else float("nan")


def per_class_recall(y_true, y_pred, num_classes: int) -> np.ndarray:
    """Recall of each class; NaN for a class with no samples in ``y_true``."""
    y_true, y_pred = _as_labels(y_true), _as_labels(y_pred)
    _check_same_length(y_true, y_pred, "per_class_recall")
    _check_range(y_true, y_pred, num_classes, "per_class_recall")
    return sklearn_metrics.recall_score(y_true, y_pred, labels=np.arange(num_classes), average=None,
                                        zero_division=np.nan)


def macro_f1(y_true, y_pred, num_classes: int) -> float:
    """Mean F1 over the classes present in targets or predictions (scikit-learn's ``f1_score(average="macro")``)."""
    y_true, y_pred = _as_labels(y_true), _as_labels(y_pred)
    _check_same_length(y_true, y_pred, "macro_f1")
    _check_range(y_true, y_pred, num_classes, "macro_f1")
    if not y_true.size:
        return float("nan")
    return float(sklearn_metrics.f1_score(y_true, y_pred, average="macro", zero_division=0.0))


def classification_summary(y_true, y_pred, class_names: Sequence[str]) -> dict[str, float | None]:
    """accuracy, macro_f1 and recall/<class> in one flat dict (for results.json and summary.csv)."""
    n = len(class_names)
    recalls = per_class_recall(y_true, y_pred, n)
    out: dict[str, float | None] = {"accuracy": accuracy(y_true, y_pred), "macro_f1": macro_f1(y_true, y_pred, n)}
    for name, value in zip(class_names, recalls):
        out[f"recall/{name}"] = None if np.isnan(value) else float(value)
    return out


def majority_class(train_labels, num_classes: int) -> int:
    """The most frequent training class: the trivial baseline's constant prediction."""
    return int(np.bincount(_as_labels(train_labels), minlength=num_classes).argmax())


# --------------------------------------------------------------------------- multilabel scoring
def _multilabel_inputs(y_true, scores, label_names):
    y_true = np.asarray(y_true)
    scores = np.asarray(scores, dtype=np.float64)
    if y_true.ndim != 2 or y_true.shape != scores.shape:
        raise ValueError(f"multilabel metrics need (N, L) targets and scores of one shape, got {y_true.shape} "
                         f"and {scores.shape}")
    if label_names is None:
        label_names = [str(i) for i in range(y_true.shape[1])]
    if len(label_names) != y_true.shape[1]:
        raise ValueError(f"{len(label_names)} label names for {y_true.shape[1]} labels")
    return (y_true > 0.5).astype(np.int64), scores, list(label_names)


def multilabel_roc_auc(y_true, scores, label_names: Sequence[str] | None = None) -> dict:
    """ROC AUC per label, macro (mean over defined labels) and micro (all decisions pooled).

    A label whose targets are all 0 or all 1 in this split has no ROC curve: it is reported as
    ``None``, listed in ``undefined`` and left out of the macro average, with a warning.
    """
    y_true, scores, label_names = _multilabel_inputs(y_true, scores, label_names)
    per_label: dict[str, float | None] = {}
    undefined = []
    for j, name in enumerate(label_names):
        positives = y_true[:, j].sum()
        if positives == 0 or positives == len(y_true):
            per_label[name] = None
            undefined.append(name)
        else:
            per_label[name] = float(roc_auc_score(y_true[:, j], scores[:, j]))
    if undefined:
        warnings.warn(
            f"ROC AUC undefined for label(s) with a single class in this split, left out of the macro: "
            f"{', '.join(undefined)}",
            stacklevel=2,
        )
    defined = [v for v in per_label.values() if v is not None]
    macro = float(np.mean(defined)) if defined else None
    flat_true = y_true.ravel()
    micro = float(roc_auc_score(flat_true, scores.ravel())) if 0 < flat_true.sum() < flat_true.size else None
    return {"micro": micro, "macro": macro, "per_label": per_label, "undefined": undefined}


def average_precision_per_label(y_true, scores, label_names: Sequence[str] | None = None) -> dict[str, float | None]:
    """Average precision (area under the step PR curve, scikit-learn); ``None`` for a label with no positive."""
    y_true, scores, label_names = _multilabel_inputs(y_true, scores, label_names)
    out: dict[str, float | None] = {}
    for j, name in enumerate(label_names):
        out[name] = float(average_precision_score(y_true[:, j], scores[:, j])) if y_true[:, j].any() else None
    return out


def mean_average_precision(y_true, scores, label_names: Sequence[str] | None = None) -> float | None:
    values = [v for v in average_precision_per_label(y_true, scores, label_names).values() if v is not None]
    return float(np.mean(values)) if values else None


# --------------------------------------------------------------------------- regression
def mae_per_dimension(y_true, y_pred, names: Sequence[str]) -> dict[str, float]:
    """Mean absolute error for each column, and their mean under ``"mean"``."""
    y_true = np.asarray(y_true, dtype=np.float64).reshape(len(y_true), -1)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(len(y_pred), -1)
    if y_true.shape != y_pred.shape or y_true.shape[1] != len(names):
        raise ValueError(f"mae_per_dimension: shapes {y_true.shape} vs {y_pred.shape} for names {list(names)}")
    errors = np.abs(y_true - y_pred).mean(axis=0)
    out = {name: float(e) for name, e in zip(names, errors)}
    out["mean"] = float(errors.mean())
    return out


# --------------------------------------------------------------------------- stimuli / saliency maps
# Which scores depend on the maps' scale: the MAE is absolute (a map darker or brighter by a constant
# scores worse); Otsu P/R/F and CC are unchanged by any increasing affine change of either map; KL and SIM
# treat the maps as distributions, so they are unchanged by scaling either map but not by an offset.


def normalize_map(saliency) -> np.ndarray:
    """Min-max scale a map to [0, 1] (float64). A constant map becomes all zeros.

    For maps whose raw values have an arbitrary scale (a saliency detector's output), as saving them as an
    8-bit image would; never for a ground truth or a network trained to regress it."""
    m = np.asarray(saliency, dtype=np.float64)
    lo, hi = m.min(), m.max()
    if hi - lo < EPS:
        return np.zeros_like(m)
    return (m - lo) / (hi - lo)


def unit_map(m, what: str = "map", clamp: bool = False) -> np.ndarray:
    """A map on the [0, 1] scale as float64: uint8 maps are divided by 255, float maps are taken as they are.

    ``clamp`` clips a float map into [0, 1] (a network's regression output); without it a float map outside
    [0, 1] is an error, since it would mean the map was stored or scaled another way."""
    arr = np.asarray(m)
    if arr.dtype == np.uint8:
        return arr.astype(np.float64) / 255.0
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"{what}: expected uint8 (0..255) or float in [0, 1], got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"{what}: contains NaN or infinite values")
    if clamp:
        return np.clip(arr, 0.0, 1.0)
    if arr.size and (arr.min() < 0.0 or arr.max() > 1.0):
        raise ValueError(f"{what}: float values must lie in [0, 1], found {arr.min():.4g}..{arr.max():.4g}")
    return arr


def _pair(pred, gt) -> tuple[np.ndarray, np.ndarray]:
    pred, gt = np.asarray(pred), np.asarray(gt)
    if pred.shape != gt.shape:
        raise ValueError(f"predicted map {pred.shape} and ground-truth map {gt.shape} differ in size")
    return unit_map(pred, "predicted map", clamp=True), unit_map(gt, "ground-truth map")


def stimuli_map_mae(pred, gt) -> float:
    """The FCNEL paper's MAE (Peng et al., ICIP 2016): mean |pred - gt| over pixels, both maps as stored
    divided by 255 (uint8) or as floats in [0, 1]; the prediction is clamped to [0, 1]; the ground truth is
    never rescaled.  Checked against the values printed in the paper's Fig. 6 (``tests/emotionroi_ex``)."""
    pred, gt = _pair(pred, gt)
    return float(np.abs(pred - gt).mean())


def otsu_threshold(saliency) -> float:
    """Otsu's threshold (OpenCV's ``THRESH_OTSU``) of a map scaled to [0, 1] and quantised to 256 levels; pixels
    ``>= threshold`` are foreground (OpenCV's foreground is ``> t``, hence ``t + 1``). Scale-invariant: the map is
    min-max scaled first."""
    levels = np.minimum((normalize_map(saliency) * 255 + 0.5).astype(np.int64), 255).astype(np.uint8)
    t, _ = cv2.threshold(np.ascontiguousarray(levels), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return (t + 1) / 255


def otsu_precision_recall_f(pred, gt, beta2: float = 0.3) -> tuple[float, float, float]:
    """Binarise both maps with their own Otsu threshold; precision, recall and F-beta of the
    predicted region against the ground-truth region (beta^2 = 0.3, the saliency convention)."""
    pred, gt = _pair(pred, gt)
    pred_mask = normalize_map(pred) >= otsu_threshold(pred)
    gt_mask = normalize_map(gt) >= otsu_threshold(gt)
    tp = float(np.logical_and(pred_mask, gt_mask).sum())
    precision = tp / pred_mask.sum() if pred_mask.any() else 0.0
    recall = tp / gt_mask.sum() if gt_mask.any() else 0.0
    denom = beta2 * precision + recall
    f_measure = (1 + beta2) * precision * recall / denom if denom > 0 else 0.0
    return float(precision), float(recall), float(f_measure)


def correlation_coefficient(pred, gt) -> float:
    """Pearson's linear correlation between the two maps (0 when either is constant)."""
    pred, gt = (np.asarray(x, dtype=np.float64).ravel() for x in (pred, gt))
    if pred.shape != gt.shape:
        raise ValueError("maps differ in size")
    if pred.std() < EPS or gt.std() < EPS:
        return 0.0
    return float(np.corrcoef(pred, gt)[0, 1])


def _distribution(m: np.ndarray) -> np.ndarray:
    m = np.clip(np.asarray(m, dtype=np.float64).ravel(), 0, None)
    total = m.sum()
    return m / total if total > EPS else np.full_like(m, 1.0 / m.size)


def kl_divergence(pred, gt) -> float:
    """KL(gt || pred), both maps as probability distributions over pixels (the saliency-benchmark
    convention, with eps regularisation so an empty predicted region is penalised, not infinite)."""
    p, q = _distribution(gt), _distribution(pred)
    if p.shape != q.shape:
        raise ValueError("maps differ in size")
    eps = np.finfo(np.float64).eps
    return float(np.sum(p * np.log(eps + p / (q + eps))))


def similarity(pred, gt) -> float:
    """SIM: sum over pixels of the minimum of the two maps as distributions (1 = identical)."""
    p, q = _distribution(pred), _distribution(gt)
    if p.shape != q.shape:
        raise ValueError("maps differ in size")
    return float(np.minimum(p, q).sum())


def stimuli_map_metrics(pred, gt) -> dict[str, float]:
    """All map scores for one image: mae, precision, recall, f_measure (Otsu), cc, kl, sim.

    ``pred`` and ``gt`` as for :func:`stimuli_map_mae` (uint8, or float in [0, 1]; the prediction is clamped)."""
    precision, recall, f_measure = otsu_precision_recall_f(pred, gt)
    pred, gt = _pair(pred, gt)
    return {
        "mae": stimuli_map_mae(pred, gt),
        "precision": precision,
        "recall": recall,
        "f_measure": f_measure,
        "cc": correlation_coefficient(pred, gt),
        "kl": kl_divergence(pred, gt),
        "sim": similarity(pred, gt),
    }
