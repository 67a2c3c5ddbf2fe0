"""Train and test a TSN / TSM model on EmoReact (the original's command line, kept).

    cd bodily_tsn && python train_EmoReact.py --input fusion --shift --config EmoReact/config.json
    python -m bodily_tsn.train_EmoReact --input face --mask --num_segments 3 --pretrained affectnet

Defaults are the original's (nkegke/deep-affective-bodily-expression-recognition train_EmoReact.py and
EmoReact/config.json); where ours differs or adds, the option says so (README parity table).

The checkpoint with the best validation micro ROC AUC (the original's monitor) is scored on the
test split; results.json, per-label AUC bars, ROC / PR curves and test predictions go to the run folder.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import warnings
from pathlib import Path

if __package__ in (None, ""):  # `cd bodily_tsn && python train_EmoReact.py`: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch
import torch.nn.functional as F

from bodily_tsn.dataset import INPUTS, LABELS, MISSING_BOX, EmoReactClips, check_data_root
from bodily_tsn.model import ARCHS, SHIFT_PLACES, build_model, resolve_pretrained
from bodily_tsn.presets import ClipEvalTransform, ClipTrainTransform
from shared_utils import metrics, plotting
from shared_utils.checkpoint import (
    atomic_write_csv,
    load_checkpoint,
    load_model_weights,
    restore_training_state,
    save_checkpoint,
    training_state,
)
from shared_utils.engine import collect_predictions, train_one_epoch
from shared_utils.io import resolve_data_kind
from shared_utils.results import Stopwatch, write_results
from shared_utils.runs import (
    BEST_CHECKPOINT,
    LAST_CHECKPOINT,
    BestTracker,
    SummaryCSV,
    add_run_args,
    parse_args_with_config,
    prepare_run_dir,
    save_args,
)
from shared_utils.runtime import Runtime, add_runtime_args, get_logger

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
DEFAULT_DATA_ROOT = REPO_ROOT / "data" / "EmoReact"
VALENCE_CENTRE, VALENCE_HALF_RANGE = 4.0, 3.0  # valence 1..7 -> [-1, 1] for the regression head


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="TSN / TSM bodily expression recognition on EmoReact",
                                     add_help=add_help)
    parser.add_argument("-c", "--config", default=None, help="JSON/YAML recipe whose values replace the defaults "
                        "(EmoReact/config.json holds the paper's)")
    # The original's options.
    parser.add_argument("--input", default="face", choices=INPUTS, help="which crops the model sees")
    parser.add_argument("--mask", action="store_true",
                        help="read the authors' masked-face frames (Data_mask/..., as the original)")
    parser.add_argument("--draw_mask", action="store_true",
                        help="draw a surgical mask from the OpenFace landmarks on the frames read (for mp4 input)")
    parser.add_argument("--num_segments", type=int, default=5,
                        help="TSN segments (frames) per clip (original default 5; its README table used 3)")
    parser.add_argument("--arch", default="resnet50", choices=ARCHS)
    parser.add_argument("--shift", action="store_true", help="TSM temporal shift in every residual block")
    parser.add_argument("--shift_div", type=int, default=8, help="shift 1/shift_div of the channels each way")
    parser.add_argument("--shift_place", default="blockres", choices=SHIFT_PLACES,
                        help="blockres: residual branch only; block: the block input (identity path too)")
    parser.add_argument("--dropout", "--do", type=float, default=0.5,
                        help="dropout before the head: recorded but, as in the original, not applied "
                             "(its TSN never builds the layer) unless --apply_dropout")
    parser.add_argument("--apply_dropout", action="store_true", help="apply --dropout before the head")
    parser.add_argument("--head_init", default="default", choices=["default", "normal"],
                        help="head init: PyTorch's default Linear init (the original) or TSN's N(0, 0.001)")
    parser.add_argument("--no_partialbn", "--npb", action="store_true", help="let every BatchNorm learn")
    parser.add_argument("--valence", action="store_true", help="also regress valence (MSE, scaled to [-1, 1])")
    parser.add_argument("--valence_weight", type=float, default=1.0)
    parser.add_argument("--separate_trunks", action="store_true",
                        help="fusion: one trunk per stream (default: one shared by face and body, as the original)")
    parser.add_argument("--pretrained", default="affectnet", metavar="NAME|PATH",
                        help="affectnet (default, as the original: its AffectNet-trained file for --arch/--shift, "
                             "from the weights cache; see python -m shared_utils.weights list), none (random "
                             "init), or a file: the original's AffectNet files or torchvision's state_dict")
    # Optimisation (the original's defaults).
    parser.add_argument("-b", "--batch-size", type=int, default=8)
    parser.add_argument("--lr", "--learning-rate", type=float, default=0.01)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--weight-decay", "--wd", type=float, default=5e-4)
    parser.add_argument("--clip-gradient", "--gd", type=float, default=None, help="gradient norm clipping")
    parser.add_argument("--epochs", type=int, default=12, help="the original's EmoReact/config.json: 12")
    parser.add_argument("--lr_steps", type=int, nargs="+", default=[20, 40],
                        help="MultiStepLR milestones (the original's [20, 40]: never reached in 12 epochs)")
    parser.add_argument("--lr_gamma", type=float, default=0.1)
    parser.add_argument("--early_stop", type=int, default=100, help="epochs without val improvement before stopping")
    parser.add_argument("--crop_size", type=int, default=224)
    parser.add_argument("--scale_size", type=int, default=256, help="training: squash to this, then random crop")
    # Data.
    parser.add_argument("--data_root", default=str(DEFAULT_DATA_ROOT),
                        help="EmoReact folder (Data/AllVideos, Holistic)")
    parser.add_argument("--split_dir", default=None,
                        help="folder with train/val/test.csv (default: DATA_ROOT if it has them, else the package's)")
    parser.add_argument("--source", default="auto", choices=["auto", "original", "mp4"],
                        help="frames: the original's extracted ones (DATA_ROOT/Data{_mask}/{Train,Validation,Test}"
                             "{_mask}/<stem>{_mask}_frames_full/), decoded from the mp4, or auto (the original's "
                             "when present)")
    parser.add_argument("--frames_dir", default=None,
                        help="read frames from <dir>/<stem>/%%06d.jpg (tools.vid2img_emoreact) instead")
    parser.add_argument("--holistic_dir", default=None,
                        help="MediaPipe Holistic <stem>_hol.txt files (default DATA_ROOT/Holistic)")
    parser.add_argument("--missing_box", default="frame", choices=MISSING_BOX,
                        help="a frame without landmarks: the whole frame (the original) or the nearest "
                             "detected frame's box")
    parser.add_argument("--skip_bad", action="store_true", help="skip clips with bad input (counted), do not fail")
    parser.add_argument("--limit_clips", type=int, default=None, help="use only the first N clips of each split")
    parser.add_argument("--test_only", action="store_true", help="score the run folder's best checkpoint on test")
    add_run_args(parser, default_output=str(REPO_ROOT / "runs" / "bodily_tsn"))
    parser.add_argument("--exp_name", dest="experiment", default=None, help="run folder name (alias of --experiment)")
    parser.add_argument("-r", dest="resume_from", default=None, metavar="PATH",
                        help="the original's --resume PATH: continue the run whose folder (or checkpoint) is PATH")
    add_runtime_args(parser)
    # The original's short options: -j/--workers, -d/--device (GPU indices such as 0 or 0,1 are accepted).
    parser.add_argument("-j", dest="workers", type=int, default=argparse.SUPPRESS, help="alias of --workers")
    parser.add_argument("-d", dest="device", default=argparse.SUPPRESS, help="alias of --device")
    return parser


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


def split_paths(args, root: Path) -> dict[str, Path]:
    if args.split_dir:
        folder = Path(args.split_dir)
    elif all((root / f"{s}.csv").is_file() for s in ("train", "val", "test")):
        folder = root
    else:
        folder = PACKAGE_DIR / "EmoReact"
    return {s: folder / f"{s}.csv" for s in ("train", "val", "test")}


def dataset_options(args, show_progress: bool) -> dict:
    """The EmoReactClips options a run's args set. An args.yaml written before --source existed meant by
    --mask a mask drawn on mp4 frames and reused the nearest detected box: it is read that way."""
    if not hasattr(args, "source"):
        return dict(mask=False, draw_mask=args.mask, source="mp4", missing_box="nearest", holistic_dir=None,
                    frames_dir=args.frames_dir, skip_bad=args.skip_bad, show_progress=show_progress)
    return dict(mask=args.mask, draw_mask=args.draw_mask, source=args.source, missing_box=args.missing_box,
                holistic_dir=args.holistic_dir, frames_dir=args.frames_dir, skip_bad=args.skip_bad,
                show_progress=show_progress)


def build_datasets(args, root: Path, show_progress: bool) -> dict[str, EmoReactClips]:
    paths = split_paths(args, root)
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
def make_loss_fn(args):
    def loss_fn(model, batch, rt):
        out = model(rt.to_device(batch["frames"]))
        labels = batch["labels"].to(rt.device)
        stream_logits = out["stream_logits"]
        # Each stream is supervised on its own (the original sums the face and body losses).
        loss = sum(F.binary_cross_entropy_with_logits(stream_logits[:, s].float(), labels)
                   for s in range(stream_logits.shape[1]))
        if args.valence:
            target = (batch["valence"].to(rt.device) - VALENCE_CENTRE) / VALENCE_HALF_RANGE
            loss = loss + args.valence_weight * F.mse_loss(out["valence"].float(), target)
        return loss, labels.shape[0]

    return loss_fn


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
        warnings.simplefilter("ignore")  # single-class labels on tiny splits: reported as None
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


def check_finite(preds: dict[str, torch.Tensor], where: str) -> dict[str, torch.Tensor]:
    """Non-finite scores stop the run in one line (scikit-learn would raise 'Input contains NaN')."""
    bad = int((~torch.isfinite(preds["scores"])).any(dim=1).sum())
    if bad:
        raise SystemExit(f"error: the model's {where} scores are not finite for {bad} of {len(preds['scores'])} "
                         "clips (the weights diverged); lower --lr, or start from --pretrained affectnet")
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
    if args.limit_clips is not None and args.limit_clips < 1:
        raise SystemExit("error: --limit_clips must be at least 1 (leave it out to use every clip)")
    if args.shift and args.num_segments < 2:
        raise SystemExit("error: --shift needs --num_segments of at least 2 (nothing to shift between)")
    if args.scale_size < args.crop_size:
        raise SystemExit(f"error: --scale_size {args.scale_size} must be >= --crop_size {args.crop_size}")
    root = check_data_root(args.data_root)
    pretrained = resolve_pretrained(args.pretrained, args.arch, args.shift)  # before any run folder exists
    rt = Runtime.from_namespace(args)
    experiment = args.experiment or experiment_name(args)
    if args.test_only:
        run_dir = Path(args.output) / experiment
        if not (run_dir / BEST_CHECKPOINT).is_file():
            raise SystemExit(f"error: --test_only: {run_dir / BEST_CHECKPOINT} does not exist")
    else:
        run_dir = prepare_run_dir(args.output, experiment, args.resume, args.overwrite, rt.is_main)
        if rt.is_main:
            save_args(run_dir, args)
    log = get_logger(run_dir, rt.is_main)
    log.info("bodily_tsn %s on %s: %s", experiment, root, rt.describe())
    clock = Stopwatch()
    data = build_datasets(args, root, rt.is_main)
    for name, ds in data.items():
        log.info("%s: %d clips%s", name, len(ds), f" ({len(ds.skipped)} skipped)" if ds.skipped else "")
    log.info("frames: %s; starting weights: %s; dropout %s; head init %s", data["train"].source,
             pretrained or "random (--pretrained none)",
             f"{args.dropout} (applied)" if args.apply_dropout else "none (as the original)", args.head_init)
    if pretrained is None and not args.no_partialbn:
        log.warning("warning: partial BN from random init freezes randomly initialised BatchNorm statistics and "
                    "often ends in a non-finite loss; start from --pretrained affectnet (as the original) or "
                    "pass --no_partialbn")
    model = rt.prepare_model(build_model(args, pretrained))
    core = rt.unwrap(model)
    streams = core.streams

    def loader(split, train):  # the original keeps the last, smaller training batch (drop_last=False)
        return rt.loader(data[split], args.batch_size, train=train, num_workers=args.workers, drop_last=False)

    val_loader, test_loader = loader("val", False), loader("test", False)
    summary = SummaryCSV(run_dir / "summary.csv")

    if not args.test_only:
        train_loader = loader("train", True)
        if len(train_loader) == 0:
            raise SystemExit(f"error: {len(data['train'])} training clips is fewer than one batch of {args.batch_size}")
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.SGD(params, args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
        scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=args.lr_steps, gamma=args.lr_gamma)
        tracker = BestTracker("val_roc_auc_micro", "max", patience=args.early_stop)
        start_epoch = 0
        if args.resume:
            start_epoch, extra = restore_training_state(load_checkpoint(run_dir / LAST_CHECKPOINT), model, optimizer,
                                                        scheduler, rt.scaler)
            tracker.load_state_dict(extra["tracker"])
            summary.truncate(start_epoch)
            log.info("resumed after epoch %d (best val micro AUC %s)", start_epoch, tracker.best)
        loss_fn = make_loss_fn(args)
        for epoch in range(start_epoch, args.epochs):
            if tracker.should_stop:
                log.info("early stop: no val improvement for %d epochs", tracker.bad_epochs)
                break
            rt.set_epoch(train_loader, epoch)
            stats = train_one_epoch(model, train_loader, optimizer, loss_fn, rt, epoch,
                                    clip_grad_norm=args.clip_gradient)
            scheduler.step()
            val = score(check_finite(collect_predictions(model, val_loader, predict_fn, rt, desc="val"),
                                     f"validation after epoch {epoch + 1}"), streams)
            auc = val["roc_auc_micro"] if val["roc_auc_micro"] is not None else float("nan")
            improved = tracker.update(auc if np.isfinite(auc) else -1.0, epoch + 1)
            row = {"epoch": epoch + 1, **stats, "val_roc_auc_micro": auc,
                   "val_roc_auc_macro": val["roc_auc_macro"], "val_map": val["mean_average_precision"]}
            if rt.is_main:
                summary.append(row)
                if improved:
                    save_checkpoint(run_dir / BEST_CHECKPOINT, {"model": core.state_dict(), "epoch": epoch + 1})
                save_checkpoint(run_dir / LAST_CHECKPOINT, training_state(
                    model, optimizer, scheduler, rt.scaler, epoch + 1, {"tracker": tracker.state_dict()}))
            log.info("epoch %d: loss %.4f val micro AUC %.4f macro %s%s", epoch + 1, stats["train_loss"], auc,
                     _fmt(val["roc_auc_macro"]), " (best)" if improved else "")
        log.info("best val micro AUC %.4f at epoch %s", tracker.best if tracker.best is not None else float("nan"),
                 tracker.best_epoch)

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
        write_outputs(run_dir, args, experiment, root, data, test_preds, test, baseline, rt, clock, best)
    rt.close()
    return test


def write_outputs(run_dir, args, experiment, root, data, preds, test, baseline, rt, clock, best) -> None:
    write_predictions(run_dir / "test_predictions.csv", data["test"], preds)
    labels, scores = preds["labels"].numpy(), preds["scores"].numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plotting.plot_per_label_bars(test["roc_auc_per_label"], run_dir / "test_auc_per_label.png",
                                     f"{experiment}: test ROC AUC per label", "ROC AUC", reference=0.5)
        plotting.plot_roc_curves(labels, scores, LABELS, run_dir / "test_roc_curves.png")
        plotting.plot_pr_curves(labels, scores, LABELS, run_dir / "test_pr_curves.png")
        if (run_dir / "summary.csv").is_file():
            plotting.plot_learning_curves(run_dir / "summary.csv", run_dir / "learning_curves.png")
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
