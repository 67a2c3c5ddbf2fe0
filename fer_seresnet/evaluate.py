"""Score a checkpoint: accuracy, macro-F1, per-class recall, confusion matrix PNG, optional ten-crop TTA.

    python -m fer_seresnet.evaluate --checkpoint runs/fer_seresnet/fer2013_se_resnet18/checkpoint_best.pt \
        --data-path data/fer2013 --split public_test --ten-crop
    # cross-dataset: a FER2013 checkpoint on RAF-DB (labels mapped to FER2013's order by the reader)
    python -m fer_seresnet.evaluate --checkpoint .../checkpoint_best.pt --cross-dataset rafdb \
        --data-path data/rafdb/basic --split test

Writes ``results.json`` (with the majority-class baseline on the same split), ``confusion_matrix.png`` and
``per_class_recall.png`` into ``--output/--experiment``.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from fer_seresnet.options import evaluate_parser as get_args_parser
from shared_utils.cli import answer_help_first

answer_help_first(get_args_parser, __name__)

import argparse
from pathlib import Path

import numpy as np
import torch

from fer_seresnet.dataset import (
    CLASS_NAMES,
    FaceSplit,
    FaceTensorDataset,
    collate_batch,
    load_dataset,
)
from fer_seresnet.model import build_model
from fer_seresnet.options import SHIPPED_CHECKPOINT
from fer_seresnet.presets import FER_MEAN, FER_STD, ClassificationPresetEval
from shared_utils import metrics, plotting
from shared_utils.checkpoint import load_checkpoint
from shared_utils.engine import collect_predictions
from shared_utils.files import resolve_data_kind
from shared_utils.results import Stopwatch, write_results
from shared_utils.runs import parse_args_with_config, prepare_run_dir, save_args
from shared_utils.runtime import Runtime, get_logger

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


# The best real FER2013 model trained for this repository (fer_seresnet/models/MANIFEST.json says how).


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




def main(args: argparse.Namespace) -> dict:
    args.data_kind = resolve_data_kind(args.data_path)  # from the data, before any run folder
    watch = Stopwatch()
    rt = Runtime.from_namespace(args)
    model, options, state = model_from_checkpoint(args.checkpoint, rt)
    dataset_name = args.cross_dataset or args.dataset or options.get("dataset", "fer2013")
    class_names = tuple(options.get("class_names", CLASS_NAMES))
    data = load_dataset(dataset_name, args.data_path, args.ferplus_csv, args.skip_bad_rows, args.ferplus_mode,
                        args.ferplus_classes or len(class_names))
    if len(data.class_names) != len(class_names):
        raise SystemExit(f"error: {args.checkpoint} predicts {len(class_names)} classes but {dataset_name} has "
                         f"{len(data.class_names)}; pass --ferplus-classes {len(class_names)}")
    split_name = choose_test_split(data.splits, args.split, args.data_path)
    tta = "_tencrop" if args.ten_crop else ""
    cross = "_cross" if args.cross_dataset else ""
    experiment = args.experiment or f"eval_{options['arch']}_{dataset_name}_{split_name}{tta}{cross}"
    run_dir = prepare_run_dir(args.output, experiment, False, args.overwrite, rt.is_main)
    if rt.is_main:
        save_args(run_dir, args)
    log = get_logger(run_dir, rt.is_main)
    log.info("scoring %s (%s) on %s %s: %d images%s", args.checkpoint, options["arch"], dataset_name, split_name,
             len(data.splits[split_name]), " with ten-crop" if args.ten_crop else "")
    predictions = predict_split(model, data.splits[split_name], rt, options["crop_size"], args.ten_crop,
                                args.batch_size, options["mean"], options["std"])
    train_labels = np.asarray(state["extra"].get("train_class_counts"), dtype=np.int64)
    # The baseline predicts the *training* set's majority class; rebuild labels from the stored counts.
    train_labels = np.repeat(np.arange(len(class_names)), train_labels)
    result = None
    if rt.is_main:
        result = write_evaluation(
            run_dir, predictions, train_labels, experiment=experiment, dataset=dataset_name,
            data_kind=args.data_kind, split=split_name, device=rt.device_name(), wall_seconds=watch.seconds,
            extra={"checkpoint": str(args.checkpoint), "ten_crop": bool(args.ten_crop),
                   "trained_on": options.get("dataset"), "load_stats": data.stats})
        log.info("%s %s: accuracy %.4f, macro-F1 %.4f (majority baseline %.4f)", dataset_name, split_name,
                 result["accuracy"], result["macro_f1"], majority_baseline(train_labels, predictions["label"].numpy()
                                                                           .astype(np.int64))["accuracy"])
    rt.close()
    return result


if __name__ == "__main__":
    main(parse_args_with_config(get_args_parser()))
