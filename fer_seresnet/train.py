"""Train a CNN / SE-CNN / SE-ResNet on FER2013, FER+ or RAF-DB (torchvision reference-script style).

    python -m fer_seresnet.train --data-path data/fer2013 --arch se_resnet18 --epochs 60
    python -m fer_seresnet.train --config fer_seresnet/configs/fer2013_se_resnet18.yaml --data-path data/fer2013
    torchrun --nproc_per_node 8 -m fer_seresnet.train --config ... --device cuda      # DDP, AMP on by default

Validation (checkpoint choice, early stopping, LR plateau) uses PublicTest when PrivateTest is present, otherwise a
fixed seeded 10% of Training; the test split is scored once, with the best checkpoint, at the end.
The run folder holds args.yaml, log.txt, summary.csv (one row per epoch, with elapsed seconds), checkpoints,
learning-curve and confusion-matrix PNGs and results.json.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from fer_seresnet.options import train_parser as get_args_parser
from shared_utils.cli import answer_help_first

answer_help_first(get_args_parser, __name__)

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from fer_seresnet.dataset import (
    FaceTensorDataset,
    collate_batch,
    load_dataset,
    train_duplicates,
    train_val_test,
)
from fer_seresnet.model import build_model, describe_model
from fer_seresnet.optimization import build_optimizer, build_scheduler, make_loss_fn
from fer_seresnet.presets import FER_MEAN, FER_STD, ClassificationPresetTrain
from fer_seresnet.scoring import predict_split, score, write_evaluation
from shared_utils import weights as registry
from shared_utils.checkpoint import (
    load_checkpoint,
    load_model_weights,
)
from shared_utils.engine import train_one_epoch
from shared_utils.files import resolve_data_kind
from shared_utils.recorder import RunRecorder, open_run
from shared_utils.results import Stopwatch
from shared_utils.runs import (
    BEST_CHECKPOINT,
    BestTracker,
    parse_args_with_config,
)
from shared_utils.runtime import Runtime
from shared_utils.splits import stratified_holdout


class TrainingClock:
    """Training wall-clock time across resumes, and the rules of ``--time-budget-minutes``: the share of the budget
    spent (the cosine schedule follows it), how many steps of an epoch still fit, whether the budget is spent."""

    def __init__(self, budget_seconds: float):
        self.budget = budget_seconds
        self.before, self.started = 0.0, time.perf_counter()
        self.seconds_per_step: float | None = None

    def start(self, elapsed_before: float = 0.0) -> None:
        self.before, self.started = elapsed_before, time.perf_counter()

    def elapsed(self) -> float:
        return self.before + time.perf_counter() - self.started

    def spent(self) -> float:
        return self.elapsed() / self.budget

    def record_pace(self, seconds: float, steps: int) -> None:
        self.seconds_per_step = seconds / steps

    def steps_left(self, steps_in_epoch: int) -> int | None:
        """None (the whole epoch) without a budget or before the first epoch has shown the pace."""
        if not self.budget or not self.seconds_per_step:
            return None
        return min(max(int((self.budget - self.elapsed()) / self.seconds_per_step), 1), steps_in_epoch)

    def budget_spent(self) -> bool:
        return bool(self.budget) and self.elapsed() >= self.budget - 0.5 * (self.seconds_per_step or 0.0)


def split_data(args, data, log):
    """Training / validation / test splits as --val-source, --holdout-fraction and --train-subset ask, logged."""
    if data.stats.get("bad_rows"):
        log.info("skipped %d malformed CSV row(s) of %s (--skip-bad-rows)", data.stats["bad_rows"], args.data_path)
    if args.dataset == "ferplus":
        log.info("FER+ (%s, %d classes): dropped %d not-face rows, %d rows without a label", args.ferplus_mode,
                 len(data.class_names), data.stats["not_face"], data.stats["no_fer_class"])
    train_split, val_split, test_split, val_name, test_name = train_val_test(
        data, args.val_source, args.holdout_fraction, args.split_seed)
    if args.train_subset and args.train_subset < len(train_split):
        keep, _ = stratified_holdout(train_split.labels.numpy(), 1 - args.train_subset / len(train_split),
                                     args.split_seed + 1)
        train_split = train_split.subset(keep)
    log.info("%s: train %d, val (%s) %d, test (%s) %d images", args.dataset, len(train_split), val_name,
             len(val_split), test_name, len(test_split))
    return train_split, val_split, test_split, val_name, test_name


def main(args: argparse.Namespace) -> dict | None:
    args.data_kind = resolve_data_kind(args.data_path)  # from the data, before any run folder
    watch = Stopwatch()
    rt = Runtime.from_namespace(args)
    # Read the data first: bad input stops the run before a run folder is created.
    data = load_dataset(args.dataset, args.data_path, args.ferplus_csv, args.skip_bad_rows, args.ferplus_mode,
                        args.ferplus_classes)
    num_classes = len(data.class_names)
    experiment = args.experiment or f"{args.dataset}_{args.arch}"
    run_dir, log = open_run(args.output, experiment, args, rt)
    log.info("runtime: %s", rt.describe())

    train_split, val_split, test_split, val_name, test_name = split_data(args, data, log)

    mean, std = FER_MEAN, FER_STD  # the checkpoint records them, so evaluation always matches training
    model_options = {"arch": args.arch, "width": args.width, "dropout": args.dropout, "crop_size": args.crop_size,
                     "mean": mean, "std": std, "dataset": args.dataset, "class_names": list(data.class_names)}
    model = build_model(args.arch, num_classes, args.width, args.dropout, args.zero_init_residual)
    log.info("model %s", describe_model(model, args.crop_size))
    if args.pretrained:
        load_model_weights(model, registry.local_file(args.pretrained, "--pretrained"))  # a registry name or a path
        log.info("initialised from %s", args.pretrained)
    if args.sync_bn and rt.dist.distributed:
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model = rt.prepare_model(model)

    train_loader = rt.loader(FaceTensorDataset(train_split), args.batch_size, train=True, num_workers=args.workers,
                             collate_fn=collate_batch)
    if len(train_loader) == 0:
        raise SystemExit(f"error: {args.data_path}: {len(train_split)} training images is fewer than one batch "
                         f"of {args.batch_size}; lower --batch-size")
    optimizer = build_optimizer(args, model)
    clock = TrainingClock(args.time_budget_minutes * 60)
    if clock.budget and rt.dist.distributed:
        raise SystemExit("error: --time-budget-minutes is for single-process runs (ranks would cut epochs apart)")
    scheduler, per_step = build_scheduler(args, optimizer, len(train_loader), clock.spent if clock.budget else None)
    train_preset = ClassificationPresetTrain(args.crop_size, args.hflip_prob, args.rotation, args.scale,
                                             args.translate, args.random_erase, mean, std)
    loss_fn = make_loss_fn(train_preset, args.label_smoothing, args.soft_targets)
    recorder = RunRecorder(run_dir, BestTracker("val_accuracy", "max", args.patience), rt)
    tracker = recorder.tracker
    start_epoch, extra = recorder.start(args.resume, model, optimizer, scheduler, log)

    train_counts = train_split.class_counts(num_classes).tolist()
    clock.start(float(extra.get("elapsed_seconds", 0.0)))  # the training time before a resume counts
    elapsed = clock.elapsed()
    for epoch in range(start_epoch, args.epochs):
        rt.set_epoch(train_loader, epoch)
        epoch_start = time.perf_counter()
        max_steps = clock.steps_left(len(train_loader))  # the budget's last epoch is cut where it runs out
        stats = train_one_epoch(model, train_loader, optimizer, loss_fn, rt, epoch,
                                scheduler_per_step=scheduler if per_step else None,
                                clip_grad_norm=args.clip_grad_norm, max_steps=max_steps)
        train_seconds = time.perf_counter() - epoch_start
        steps_done = max_steps or len(train_loader)
        clock.record_pace(train_seconds, steps_done)
        val = predict_split(model, val_split, rt, args.crop_size, False, args.eval_batch_size, mean, std)
        val_metrics = score(val["label"].numpy().astype(np.int64), val["probs"].numpy(), data.class_names)
        if scheduler is not None and not per_step:
            scheduler.step(val_metrics["accuracy"])
        elapsed = clock.elapsed()
        row = {"epoch": epoch + 1, **stats, "val_accuracy": val_metrics["accuracy"],
               "val_macro_f1": val_metrics["macro_f1"], "val_nll": val_metrics["nll"],
               "train_images_per_s": steps_done * args.batch_size * rt.dist.world_size / train_seconds,
               "train_steps": steps_done,
               "elapsed_seconds": elapsed}
        recorder.end_epoch(epoch + 1, row, val_metrics["accuracy"], model, optimizer, scheduler,
                           {"model_options": model_options, "train_class_counts": train_counts,
                            "elapsed_seconds": elapsed})
        log.info("epoch %d/%d: train loss %.4f, val accuracy %.4f (best %.4f @ %d), macro-F1 %.4f, %.0f img/s, "
                 "%.0f s elapsed", epoch + 1, args.epochs, stats["train_loss"], val_metrics["accuracy"], tracker.best,
                 tracker.best_epoch, val_metrics["macro_f1"], row["train_images_per_s"], elapsed)
        if tracker.should_stop:
            log.info("early stop: no validation gain for %d epochs", args.patience)
            break
        if clock.budget_spent():
            log.info("time budget of %.1f min spent after epoch %d", args.time_budget_minutes, epoch + 1)
            break
        if epoch + 1 == args.stop_after_epoch:
            log.info("stopped after epoch %d (--stop-after-epoch): the test split is not scored; --resume "
                     "continues", epoch + 1)
            rt.close()
            return None

    recorder.finish(["train_loss", "val_accuracy", "val_macro_f1"])
    result = score_test_split(args, model, rt, run_dir, data, (train_split, val_name, test_split, test_name),
                              tracker, {"experiment": experiment, "training_seconds": elapsed, "watch": watch}, log)
    rt.close()
    return result


def score_test_split(args, model, rt: Runtime, run_dir: Path, data, splits, tracker, run_info: dict, log):
    """Score the test split once, with the checkpoint chosen on validation (rank 0 wrote it; the recorder's finish()
    waited for it): ten-crop and centre crop, the majority baseline, and the test images duplicated in Training."""
    train_split, val_name, test_split, test_name = splits
    mean, std = FER_MEAN, FER_STD
    num_classes = len(data.class_names)
    best = load_checkpoint(run_dir / BEST_CHECKPOINT)
    rt.unwrap(model).load_state_dict(best["model"])
    test_watch = Stopwatch()
    centre = predict_split(model, test_split, rt, args.crop_size, False, args.eval_batch_size, mean, std)
    centre_metrics = score(centre["label"].numpy().astype(np.int64), centre["probs"].numpy(), data.class_names)
    final, extra = centre, {"centre_crop": centre_metrics}
    if args.eval_ten_crop:
        final = predict_split(model, test_split, rt, args.crop_size, True, args.eval_batch_size, mean, std)
    if rt.is_main:
        # Disclose test images that have an exact copy in Training (FER2013 PublicTest: 280), and score without them
        duplicate, other_label = train_duplicates(test_split, data.splits["train"])
        if duplicate.any():
            keep = ~duplicate
            correct = final["probs"].numpy().argmax(1) == final["label"].numpy()
            extra.update({"train_duplicates": int(duplicate.sum()),
                          "train_duplicates_other_label": int(other_label.sum()),
                          "accuracy_without_train_duplicates": float(correct[keep].mean())})
        extra.update({"best_epoch": tracker.best_epoch, "val_split": val_name, "val_accuracy": tracker.best,
                      "ten_crop": bool(args.eval_ten_crop), "train_images": len(train_split),
                      "best_checkpoint_elapsed_seconds": float(best["extra"]["elapsed_seconds"]),
                      "training_seconds": float(run_info["training_seconds"]), "load_stats": data.stats,
                      "test_eval_seconds": test_watch.seconds})
        train_labels = np.repeat(np.arange(num_classes), train_split.class_counts(num_classes))
        watch = run_info["watch"]
        result = write_evaluation(run_dir, final, train_labels, experiment=run_info["experiment"],
                                  dataset=args.dataset, data_kind=args.data_kind, split=test_name,
                                  device=rt.device_name(), wall_seconds=watch.seconds, extra=extra,
                                  class_names=data.class_names)
        log.info("test (%s%s, best epoch %s): accuracy %.4f, macro-F1 %.4f; centre crop accuracy %.4f; %.0f s total",
                 test_name, ", ten-crop" if args.eval_ten_crop else "", tracker.best_epoch, result["accuracy"],
                 result["macro_f1"], centre_metrics["accuracy"], watch.seconds)
    return result


if __name__ == "__main__":
    main(parse_args_with_config(get_args_parser()))
