"""Scoring a fer_seresnet network: predictions over a split (optionally ten-crop), accuracy / macro-F1 / recall,
the majority-class baseline, the plots and ``results.json`` of one scored split, and rebuilding a model from a
checkpoint. Used by ``train.py`` (the test split after training), ``evaluate.py``, ``visualize.py`` and ``faces.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from fer_seresnet.dataset import CLASS_NAMES, FaceSplit, FaceTensorDataset, collate_batch
from fer_seresnet.model import build_model
from fer_seresnet.options import SHIPPED_CHECKPOINT
from fer_seresnet.presets import FER_MEAN, FER_STD, ClassificationPresetEval
from shared_utils import metrics, plotting
from shared_utils.checkpoint import load_checkpoint
from shared_utils.engine import collect_predictions
from shared_utils.results import write_results
from shared_utils.runtime import Runtime

PACKAGE = "fer_seresnet"


def make_predict_fn(preset: ClassificationPresetEval):
    """predict_fn for ``collect_predictions``: softmax scores (averaged over crops with ten-crop) and labels."""

    def predict(model, batch, rt):
        images = preset(rt.to_device(batch["image"]))
        if images.dim() == 5:  # (B, crops, 1, h, w): average the crops' probabilities
            b, n = images.shape[:2]
            probs = model(rt.to_device(images.flatten(0, 1))).float().softmax(1).view(b, n, -1).mean(1)
        else:
            probs = model(rt.to_device(images)).float().softmax(1)
        return {"probs": probs, "label": batch["label"].to(probs.device)}

    return predict


def predict_split(model, split: FaceSplit, rt: Runtime, crop_size: int, ten_crop: bool = False,
                  batch_size: int = 256, mean: float = FER_MEAN, std: float = FER_STD) -> dict[str, torch.Tensor]:
    loader = rt.loader(FaceTensorDataset(split), batch_size, train=False, collate_fn=collate_batch)
    preset = ClassificationPresetEval(crop_size, ten_crop, mean, std)
    return collect_predictions(model, loader, make_predict_fn(preset), rt, desc="ten-crop eval" if ten_crop else "eval")


def score(labels: np.ndarray, probs: np.ndarray, class_names=CLASS_NAMES) -> dict:
    """accuracy, macro_f1, recall/<class> and the confusion matrix (as nested lists) for predictions."""
    pred = probs.argmax(1)
    summary = metrics.classification_summary(labels, pred, class_names)
    nll = -np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, None)).mean()
    summary["nll"] = float(nll)
    return summary


def majority_baseline(train_labels: np.ndarray, labels: np.ndarray, class_names=CLASS_NAMES) -> dict:
    """The trivial predictor: always the training majority class, the training prior as scores."""
    prior = np.bincount(train_labels, minlength=len(class_names)).astype(np.float64)
    prior /= prior.sum()
    return score(labels, np.tile(prior, (len(labels), 1)), class_names)


def write_evaluation(run_dir: Path, predictions: dict[str, torch.Tensor], train_labels: np.ndarray, *, experiment: str,
                     dataset: str, data_kind: str, split: str, device: str, wall_seconds: float,
                     extra: dict | None = None, title: str = "", class_names=CLASS_NAMES) -> dict:
    """results.json + confusion-matrix and per-class-recall plots for one scored split; returns the metrics."""
    labels = predictions["label"].numpy().astype(np.int64)
    probs = predictions["probs"].numpy()
    result = score(labels, probs, class_names)
    baseline = majority_baseline(train_labels, labels, class_names)
    cm = metrics.confusion_matrix(labels, probs.argmax(1), len(class_names))
    plotting.plot_confusion_matrix(cm, list(class_names), run_dir / f"confusion_matrix_{split}.png",
                                   title=title or f"{experiment} on {dataset} {split}")
    recalls = {name: result[f"recall/{name}"] for name in class_names if result[f"recall/{name}"] is not None}
    if recalls:
        plotting.plot_per_label_bars(recalls, run_dir / f"per_class_recall_{split}.png",
                                     title=f"per-class recall, {dataset} {split}", ylabel="recall")
    extra = dict(extra or {})
    extra.update({"num_samples": int(len(labels)), "confusion_matrix": cm.tolist()})
    write_results(run_dir, package=PACKAGE, experiment=experiment, dataset=dataset, data=data_kind, split=split,
                  metrics=result, baseline=baseline, device=device, wall_seconds=wall_seconds, extra=extra)
    return result


def choose_test_split(splits, requested: str | None, data_path) -> str:
    """``requested``, else private_test > public_test > test; never the training split silently."""
    split_name = requested or next((s for s in ("private_test", "public_test", "test") if s in splits), None)
    if split_name is None:
        raise SystemExit(f"error: {data_path}: no test split (has {', '.join(splits)}); pass --split train "
                         "to score the training images on purpose")
    if split_name not in splits:
        raise SystemExit(f"error: {data_path}: no split {split_name!r} (has {', '.join(splits)})")
    return split_name


def model_from_checkpoint(path: str | Path, rt: Runtime):
    """Rebuild the network from the options stored in a training (or shipped) checkpoint and load its weights."""
    if Path(path) == SHIPPED_CHECKPOINT and not SHIPPED_CHECKPOINT.is_file():
        raise SystemExit(f"error: the shipped model {SHIPPED_CHECKPOINT} is missing from this checkout; "
                         "pass --checkpoint RUN/checkpoint_best.pt")
    state = load_checkpoint(path)
    options = state.get("extra", {}).get("model_options")
    if options is None:
        raise SystemExit(f"error: {path}: not a fer_seresnet training checkpoint (no model_options)")
    model = build_model(options["arch"], len(options.get("class_names", CLASS_NAMES)), options["width"],
                        options.get("dropout", 0.0))
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as exc:
        raise SystemExit(f"error: checkpoint {path} does not fit its own model options: "
                         f"{str(exc).splitlines()[0]}") from None
    model = rt.prepare_model(model)
    return model, options, state
