"""Train and test a TSN / TSM model on EmoReact (the original's command line, kept).

    cd bodily_tsn && python train_EmoReact.py --input fusion --shift --config EmoReact/config.json
    python -m bodily_tsn.train_EmoReact --input face --mask --num_segments 3 --pretrained affectnet

Defaults are the original's (nkegke/deep-affective-bodily-expression-recognition train_EmoReact.py and
EmoReact/config.json); where ours differs or adds, the option says so (README parity table).

The checkpoint with the best validation micro ROC AUC (the original's monitor) is scored on the
test split; results.json, per-label AUC bars, ROC / PR curves and test predictions go to the run folder.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from bodily_tsn.options import get_args_parser
from shared_utils.cli import answer_help_first

answer_help_first(get_args_parser, __name__)

import os
import re
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.exceptions import UndefinedMetricWarning

from bodily_tsn.dataset import LABELS, EmoReactClips, check_data_root, dataset_options, split_paths
from bodily_tsn.losses import VALENCE_CENTRE, VALENCE_HALF_RANGE, make_loss_fn
from bodily_tsn.model import build_model, resolve_pretrained
from bodily_tsn.presets import ClipEvalTransform, ClipTrainTransform
from shared_utils import metrics, plotting
from shared_utils.checkpoint import (
    load_model_weights,
)
from shared_utils.engine import collect_predictions, train_one_epoch
from shared_utils.files import atomic_write_csv, resolve_data_kind
from shared_utils.recorder import RunRecorder, open_run
from shared_utils.results import Stopwatch, write_results
from shared_utils.runs import (
    BEST_CHECKPOINT,
    LAST_CHECKPOINT,
    BestTracker,
    new_evaluation_dir,
    parse_args_with_config,
    save_args,
)
from shared_utils.runtime import Runtime, get_logger


def apply_original_aliases(args) -> None:
    """-r PATH -> --resume in PATH's run folder; -d 0,1 (the original's GPU indices) -> CUDA_VISIBLE_DEVICES."""
    if args.resume_from:
        path = Path(args.resume_from)
        run_dir = path if path.is_dir() else path.parent
        if not (run_dir / LAST_CHECKPOINT).is_file():
            raise SystemExit(f"error: -r {path}: no {LAST_CHECKPOINT} in {run_dir} (a run folder of this project)")
        args.output, args.experiment, args.resume = str(run_dir.parent), run_dir.name, True
    if re.fullmatch(r"\d+(,\d+)*", str(args.device)):
        os.environ["CUDA_VISIBLE_DEVICES"] = str(args.device)
        args.device = "cuda"


def experiment_name(args) -> str:
    kind = "tsm" if args.shift else "tsn"
    masked = "_mask" if args.mask or args.draw_mask else ""
    return f"{kind}_{args.input}{masked}_{args.arch}_seg{args.num_segments}"


def build_datasets(args, root: Path, show_progress: bool) -> dict[str, EmoReactClips]:
    paths = split_paths(args.split_dir, root)
    common = dict(input_kind=args.input, num_segments=args.num_segments, limit=args.limit_clips,
                  **dataset_options(args, show_progress))
    return {
        "train": EmoReactClips(root, paths["train"], train=True, split="train",
                               transform=ClipTrainTransform(args.crop_size, args.scale_size), **common),
        "val": EmoReactClips(root, paths["val"], split="val", transform=ClipEvalTransform(args.crop_size), **common),
        "test": EmoReactClips(root, paths["test"], split="test", transform=ClipEvalTransform(args.crop_size),
                              **common),
    }


# --------------------------------------------------------------------------- loss and predictions
def predict_fn(model, batch, rt):
    out = model(rt.to_device(batch["frames"]))
    result = {"scores": torch.sigmoid(out["logits"].float()), "labels": batch["labels"], "index": batch["index"],
              "stream_scores": torch.sigmoid(out["stream_logits"].float())}
    if "valence" in out:
        result["valence"] = out["valence"].float() * VALENCE_HALF_RANGE + VALENCE_CENTRE
        result["valence_true"] = batch["valence"]
    return result


def score(preds: dict[str, torch.Tensor], streams: list[str]) -> dict:
    """ROC AUC (micro, macro, per label) and AP of the fused scores; per-stream micro AUC for fusion."""
    labels, scores = preds["labels"].numpy(), preds["scores"].numpy()
    with warnings.catch_warnings():
        # a label with a single class in a (tiny) split: its AUC is undefined and reported as None
        warnings.filterwarnings("ignore", message="ROC AUC undefined", category=UserWarning)
        auc = metrics.multilabel_roc_auc(labels, scores, LABELS)
        ap = metrics.average_precision_per_label(labels, scores, LABELS)
        out = {
            "roc_auc_micro": auc["micro"],
            "roc_auc_macro": auc["macro"],
            "mean_average_precision": metrics.mean_average_precision(labels, scores, LABELS),
            "roc_auc_per_label": auc["per_label"],
            "average_precision_per_label": ap,
        }
        if len(streams) > 1:
            for s, name in enumerate(streams):
                out[f"roc_auc_micro_{name}_stream"] = metrics.multilabel_roc_auc(
                    labels, preds["stream_scores"][:, s].numpy(), LABELS)["micro"]
    if "valence" in preds:
        out["valence_mae"] = float(np.abs(preds["valence"].numpy() - preds["valence_true"].numpy()).mean())
    return out


def check_finite(preds: dict[str, torch.Tensor], where: str,
                 hint: str = "lower --lr, or start from --pretrained affectnet") -> dict[str, torch.Tensor]:
    """Non-finite scores stop the run in one line (scikit-learn would raise 'Input contains NaN')."""
    bad = int((~torch.isfinite(preds["scores"])).any(dim=1).sum())
    if bad:
        raise SystemExit(f"error: the model's {where} scores are not finite for {bad} of {len(preds['scores'])} "
                         f"clips (the weights diverged); {hint}")
    return preds


def prior_baseline(train_labels: np.ndarray, n: int) -> dict:
    """Trivial predictor: every clip scored with the training label frequencies."""
    return {"scores": torch.from_numpy(np.tile(train_labels.mean(0), (n, 1)).astype(np.float32))}


def write_predictions(path: Path, dataset: EmoReactClips, preds: dict[str, torch.Tensor]) -> None:
    rows = [[dataset.clips[idx].record.video, *preds["labels"][i].int().tolist(),
             *[f"{v:.5f}" for v in preds["scores"][i].tolist()]] for i, idx in enumerate(preds["index"].tolist())]
    atomic_write_csv(path, ["video", *[f"true_{n}" for n in LABELS], *[f"score_{n}" for n in LABELS]], rows)


# --------------------------------------------------------------------------- main
def main(args) -> dict:
    apply_original_aliases(args)
    if args.num_segments < 1:
        raise SystemExit("error: --num_segments must be at least 1")
    if args.shift and args.num_segments < 2:
        raise SystemExit("error: --shift needs --num_segments of at least 2 (nothing to shift between)")
    if args.scale_size < args.crop_size:
        raise SystemExit(f"error: --scale_size {args.scale_size} must be >= --crop_size {args.crop_size}")
    root = check_data_root(args.data_root)
    pretrained = resolve_pretrained(args.pretrained, args.arch, args.shift)  # before any run folder exists
    rt = Runtime.from_namespace(args)
    experiment = args.experiment or experiment_name(args)
    clock = Stopwatch()
    data = build_datasets(args, root, rt.is_main)  # bad labels or frames are refused before any run folder
    if args.test_only:
        run_dir = Path(args.output) / experiment
        if not (run_dir / BEST_CHECKPOINT).is_file():
            raise SystemExit(f"error: --test_only: {run_dir / BEST_CHECKPOINT} does not exist")
        out_dir = new_evaluation_dir(run_dir, rt.is_main)  # the run's own files stay as training wrote them
        if rt.is_main:
            save_args(out_dir, args)
        log = get_logger(out_dir, rt.is_main)
    else:
        out_dir, log = open_run(args.output, experiment, args, rt)
        run_dir = out_dir
    if args.test_only:
        log.info("--test_only: scoring %s, outputs in %s", run_dir / BEST_CHECKPOINT, out_dir)
    log.info("bodily_tsn %s on %s: %s", experiment, root, rt.describe())
    for name, ds in data.items():
        log.info("%s: %d clips%s", name, len(ds), f" ({len(ds.skipped)} skipped)" if ds.skipped else "")
    log.info("frames: %s; starting weights: %s; dropout %s; head init %s", data["train"].source,
             pretrained or "random (--pretrained none)",
             f"{args.dropout} (applied)" if args.apply_dropout else "none (as the original)", args.head_init)
    if pretrained is None and not args.no_partialbn:
        log.warning("warning: partial BN from random init freezes randomly initialised BatchNorm statistics and "
                    "often ends in a non-finite loss; start from --pretrained affectnet (as the original) or "
                    "pass --no_partialbn")
    # The guard stops a diverged run (the original trains on in NaN); what to do depends on where it started.
    diverged_hint = ("random weights with partial BN (the original's default) diverge here: start from the original's "
                     "--pretrained affectnet, or let every BatchNorm learn with --no_partialbn"
                     if pretrained is None and not args.no_partialbn else "lower --lr, or clip with --clip-gradient")
    model = rt.prepare_model(build_model(args, pretrained))
    core = rt.unwrap(model)
    streams = core.streams

    def loader(split, train):  # the original keeps the last, smaller training batch (drop_last=False)
        return rt.loader(data[split], args.batch_size, train=train, num_workers=args.workers, drop_last=False)

    val_loader, test_loader = loader("val", False), loader("test", False)

    if not args.test_only:
        train_loader = loader("train", True)
        if len(train_loader) == 0:
            raise SystemExit(f"error: {len(data['train'])} training clips is fewer than one batch of {args.batch_size}")
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.SGD(params, args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
        scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=args.lr_steps, gamma=args.lr_gamma)
        recorder = RunRecorder(run_dir, BestTracker("val_roc_auc_micro", "max", patience=args.early_stop), rt)
        tracker = recorder.tracker
        start_epoch, _ = recorder.start(args.resume, model, optimizer, scheduler, log)
        loss_fn = make_loss_fn(args)
        for epoch in range(start_epoch, args.epochs):
            if tracker.should_stop:
                log.info("early stop: no val improvement for %d epochs", tracker.bad_epochs)
                break
            rt.set_epoch(train_loader, epoch)
            stats = train_one_epoch(model, train_loader, optimizer, loss_fn, rt, epoch,
                                    clip_grad_norm=args.clip_gradient, diverged_hint=diverged_hint)
            scheduler.step()
            val = score(check_finite(collect_predictions(model, val_loader, predict_fn, rt, desc="val"),
                                     f"validation after epoch {epoch + 1}", diverged_hint), streams)
            auc = val["roc_auc_micro"] if val["roc_auc_micro"] is not None else float("nan")
            row = {"epoch": epoch + 1, **stats, "val_roc_auc_micro": auc,
                   "val_roc_auc_macro": val["roc_auc_macro"], "val_map": val["mean_average_precision"]}
            improved = recorder.end_epoch(epoch + 1, row, auc if np.isfinite(auc) else -1.0, model, optimizer,
                                          scheduler)
            log.info("epoch %d: loss %.4f val micro AUC %.4f macro %s%s", epoch + 1, stats["train_loss"], auc,
                     _fmt(val["roc_auc_macro"]), " (best)" if improved else "")
        log.info("best val micro AUC %.4f at epoch %s", tracker.best if tracker.best is not None else float("nan"),
                 tracker.best_epoch)
        recorder.finish()

    # Test with the checkpoint chosen on validation (every rank waits until rank 0 has written it).
    rt.barrier()
    best = load_model_weights(core, run_dir / BEST_CHECKPOINT)
    test_preds = check_finite(collect_predictions(model, test_loader, predict_fn, rt, desc="test"), "test")
    test = score(test_preds, streams)
    baseline = score({**prior_baseline(data["train"].labels, len(data["test"])),
                      "labels": test_preds["labels"]}, [])
    log.info("test (epoch %s checkpoint): micro AUC %s macro AUC %s mAP %s | prior baseline micro %s",
             best.get("epoch"), _fmt(test["roc_auc_micro"]), _fmt(test["roc_auc_macro"]),
             _fmt(test["mean_average_precision"]), _fmt(baseline["roc_auc_micro"]))
    if rt.is_main:
        write_outputs(out_dir, args, experiment, root, data, test_preds, test, baseline, rt, clock, best)
    rt.close()
    return test


def write_outputs(run_dir, args, experiment, root, data, preds, test, baseline, rt, clock, best) -> None:
    write_predictions(run_dir / "test_predictions.csv", data["test"], preds)
    labels, scores = preds["labels"].numpy(), preds["scores"].numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)  # curves of a label with one class in the split
        plotting.plot_per_label_bars(test["roc_auc_per_label"], run_dir / "test_auc_per_label.png",
                                     f"{experiment}: test ROC AUC per label", "ROC AUC", reference=0.5)
        plotting.plot_roc_curves(labels, scores, LABELS, run_dir / "test_roc_curves.png")
        plotting.plot_pr_curves(labels, scores, LABELS, run_dir / "test_pr_curves.png")
    demo = resolve_data_kind(root) == "demo"
    write_results(
        run_dir, package="bodily_tsn", experiment=experiment, dataset="EmoReact", data="demo" if demo else "real",
        split="test", metrics=test, baseline=baseline, device=rt.device_name(), wall_seconds=clock.seconds,
        extra={"best_epoch": best.get("epoch"), "num_test_clips": len(data["test"]),
               "input_size": args.crop_size, "num_segments": args.num_segments, "arch": args.arch,
               "skipped_clips": {k: len(v.skipped) for k, v in data.items()}},
    )


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


if __name__ == "__main__":
    main(parse_args_with_config(get_args_parser()))
