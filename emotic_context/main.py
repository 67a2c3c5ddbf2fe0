"""Train, test and run the EMOTIC two-stream model, with the PyTorch port's command line.

    python main.py --mode train_test --data_path DATA/emotic_pre --experiment_path runs/emotic_context/exp1
    python main.py --mode test --data_path DATA/emotic_pre --experiment_path runs/emotic_context/exp1
    python main.py --mode inference --inference_file list.txt --experiment_path runs/emotic_context/exp1 \
        [--thresholds ../shared/data/emotic/thresholds_rkosti.mat] [--on_bad_row skip|fail]

``--data_path`` is the output of ``mat2py.py`` (the port's CSVs and the npy cache); with
``--data_source images`` the images are read and cropped on the fly instead (``--image_dir``,
default ``DATA_PATH/../emotic``). The run folder holds args.yaml, summary.csv, log.txt,
checkpoints, val_thresholds.{npy,json}, results.json, the AP table and plots.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from emotic_context.options import main_parser
from shared_utils.cli import answer_help_first

answer_help_first(main_parser, __name__)

import argparse
from pathlib import Path

import numpy as np
import torch

import emotic_context  # noqa: F401  (imports shared_utils before torchvision)
from emotic_context.dataset import (
    CATEGORIES,
    VAD_NAMES,
    VAD_SCALE,
    clamp_bbox,
    read_rgb,
)
from emotic_context.evaluation import (
    THRESHOLDS_FILE,
    ap_table_markdown,
    emotic_metrics,
    load_thresholds,
    prior_baseline,
    save_thresholds,
    validation_thresholds,
)
from emotic_context.losses import ContinuousLoss, DiscreteLoss
from emotic_context.model import EmoticModel, model_from_checkpoint, resolve_weights
from emotic_context.person import score_person
from emotic_context.training import (
    arch_from_args,
    build_dataset,
    build_optimizer,
    loss_function,
    require_data_path,
)
from shared_utils import plotting
from shared_utils.engine import collect_predictions, train_one_epoch
from shared_utils.files import atomic_write_csv, atomic_write_text, resolve_data_kind
from shared_utils.recorder import RunRecorder, open_run
from shared_utils.results import Stopwatch, write_results
from shared_utils.runs import (
    BestTracker,
    new_evaluation_dir,
    parse_args_with_config,
    save_args,
)
from shared_utils.runtime import Runtime, get_logger

PACKAGE = "emotic_context"




# --------------------------------------------------------------------------- helpers
def resolve_run_location(args) -> tuple[Path, str]:
    if args.experiment_path:
        path = Path(args.experiment_path)
        return path.parent, path.name
    return Path(args.output), args.experiment or f"emotic_{args.context_model}_{args.body_model}"


def data_kind(args) -> str:
    """``demo`` when the cache was made from demo_data.py's output (its marker file, which mat2py.py copies), else
    ``real``; a converted port model scored without --data_path is real."""
    return resolve_data_kind(args.data_path) if args.data_path else "real"


def validation_loss(args, preds: dict[str, np.ndarray], train_cat_counts) -> float:
    """The training loss on validation, summed over batches of ``--batch_size`` in order, as the port's
    notebook does to pick its model (cell 24; dynamic weights depend on each batch's labels)."""
    discrete = DiscreteLoss(args.discrete_loss_weight_type, train_counts=train_cat_counts)
    continuous = ContinuousLoss(args.continuous_loss_type, args.cont_margin)
    total = 0.0
    for start in range(0, len(preds["cat_true"]), args.batch_size):
        part = {k: torch.from_numpy(np.asarray(v[start:start + args.batch_size], dtype=np.float32))
                for k, v in preds.items()}
        total += float(args.cat_loss_weight * discrete(part["cat_scores"], part["cat_true"])
                       + args.cont_loss_weight * continuous(part["vad_pred"], part["vad_true"]))
    return total


def predict_fn(model, batch, rt):
    context, body, cat, cont = batch
    pred_cat, pred_cont = model(rt.to_device(context), rt.to_device(body))
    return {"cat_scores": pred_cat, "vad_pred": pred_cont * VAD_SCALE, "cat_true": cat, "vad_true": cont * VAD_SCALE}


def predictions(model, dataset, args, rt, desc: str) -> dict[str, np.ndarray]:
    loader = rt.loader(dataset, args.batch_size, train=False, num_workers=args.workers)
    out = collect_predictions(model, loader, predict_fn, rt, desc=desc)
    return {k: v.numpy() for k, v in out.items()}


# --------------------------------------------------------------------------- train
def training_data(args):
    """(train set, val set, arch): opened before any run folder, so a missing or broken cache is one line."""
    train_set = build_dataset(args, arch_from_args(args), "train", train=True)
    arch = arch_from_args(args, train_set)
    return train_set, build_dataset(args, arch, "val", train=False), arch


def train(args, rt: Runtime, run_dir: Path, log, trunk_weights: tuple, data) -> None:
    train_set, val_set, arch = data
    log.info(f"train {len(train_set)} persons, val {len(val_set)}; {rt.describe()}")
    log.info(f"context trunk from {trunk_weights[0] or 'random weights'}, body trunk from "
             f"{trunk_weights[1] or 'random weights'}; trunks {'frozen' if args.freeze_trunks else 'trained'}; "
             f"model kept: {args.select_by}")
    model = EmoticModel(args.context_model, args.body_model, *trunk_weights)
    if args.freeze_trunks:  # as the notebook: no gradient, but still train mode (BatchNorm statistics update)
        for trunk in (model.context_trunk, model.body_trunk):
            trunk.requires_grad_(False)
    model = rt.prepare_model(model)
    optimizer = build_optimizer(args, model)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=args.lr_step, gamma=args.lr_gamma)
    train_counts = train_set.cat_labels.sum(axis=0)
    loss_fn = loss_function(args, train_counts)
    loader = rt.loader(train_set, args.batch_size, train=True, num_workers=args.workers,
                       drop_last=args.drop_last and len(train_set) > args.batch_size)
    recorder = RunRecorder(run_dir, BestTracker({"val_map": "val_mAP_percent", "val_loss": "val_loss"}.get(
        args.select_by, "epoch"), mode="min" if args.select_by == "val_loss" else "max"), rt)
    start_epoch, _ = recorder.start(args.resume, model, optimizer, scheduler, log)
    for epoch in range(start_epoch, args.epochs):
        rt.set_epoch(loader, epoch)
        stats = train_one_epoch(model, loader, optimizer, loss_fn, rt, epoch)
        scheduler.step()
        preds = predictions(model, val_set, args, rt, desc=f"epoch {epoch} val")
        val = emotic_metrics(preds["cat_true"], preds["cat_scores"], preds["vad_true"], preds["vad_pred"])
        val_loss = validation_loss(args, preds, train_counts)
        row = {"epoch": epoch + 1, **stats, "val_loss": val_loss, "val_mAP_percent": val["mAP_percent"],
               "val_vad_mae": val["vad_mae"]}
        score = {"val_map": val["mAP_percent"] if val["mAP_percent"] is not None else float("-inf"),
                 "val_loss": val_loss}.get(args.select_by, float(epoch + 1))
        improved = recorder.end_epoch(epoch + 1, row, score, model, optimizer, scheduler, {"arch": arch})
        log.info(f"epoch {epoch + 1}/{args.epochs} train_loss {stats['train_loss']:.4f} val mAP "
                 f"{val['mAP_percent']:.2f}% val VAD MAE {val['vad_mae']:.3f}" + (" (best)" if improved else ""))
    recorder.finish()
    # Thresholds for inference, from the best model on validation (rank 0 wrote it; finish() waited for it).
    best, _, _ = model_from_checkpoint(None, run_dir)
    best = rt.prepare_model(best)
    preds = predictions(best, val_set, args, rt, desc="val thresholds")
    if rt.is_main:
        save_thresholds(run_dir, validation_thresholds(preds["cat_true"], preds["cat_scores"]))
    log.info(f"model kept ({args.select_by}): epoch {recorder.tracker.best_epoch}; thresholds in {run_dir}")


# --------------------------------------------------------------------------- test
def test(args, rt: Runtime, run_dir: Path, log, out_dir: Path | None = None, loaded=None) -> dict:
    """Score the run's best checkpoint (or ``--checkpoint``, ``loaded`` if main already read it); outputs go to
    ``out_dir`` (default: the run)."""
    clock = Stopwatch()
    out_dir = out_dir or run_dir
    model, arch, checkpoint = loaded or model_from_checkpoint(args.checkpoint, run_dir)
    model = rt.prepare_model(model)
    # the data options are this command's, the input sizes and masking the checkpoint's (build_dataset reads `arch`)
    val_set = build_dataset(args, arch, "val", train=False)
    test_set = build_dataset(args, arch, "test", train=False)
    train_set = build_dataset(args, arch, "train", train=False)  # labels only, for the baseline
    val = predictions(model, val_set, args, rt, desc="val")
    thresholds = validation_thresholds(val["cat_true"], val["cat_scores"])
    test_preds = predictions(model, test_set, args, rt, desc="test")
    metrics = emotic_metrics(test_preds["cat_true"], test_preds["cat_scores"], test_preds["vad_true"],
                             test_preds["vad_pred"], thresholds)
    base_scores, base_vad = prior_baseline(train_set.cat_labels, train_set.cont_labels, len(test_set))
    baseline = emotic_metrics(test_preds["cat_true"], base_scores, test_preds["vad_true"], base_vad)
    val_metrics = emotic_metrics(val["cat_true"], val["cat_scores"], val["vad_true"], val["vad_pred"])
    if rt.is_main:
        save_thresholds(out_dir, thresholds)
        table = ap_table_markdown({"ours (test)": metrics, "train-prior baseline (test)": baseline,
                                   "ours (val)": val_metrics})
        atomic_write_text(out_dir / "ap_table.md", table)
        plotting.plot_per_label_bars({c: metrics[f"ap_percent/{c}"] for c in CATEGORIES},
                                     out_dir / "test_ap_per_category.png", "EMOTIC test AP per category",
                                     "AP (%)", reference=metrics["mAP_percent"])
        plotting.plot_pr_curves(test_preds["cat_true"], test_preds["cat_scores"], list(CATEGORIES),
                                out_dir / "test_pr_curves.png")
        np.savez(out_dir / "test_predictions.npz", **test_preds)
        write_results(out_dir, package=PACKAGE, experiment=run_dir.name, dataset="EMOTIC", data=data_kind(args),
                      split="test", metrics=metrics, baseline=baseline, device=rt.device_name(),
                      wall_seconds=clock.seconds,
                      extra={"val": {k: val_metrics[k] for k in ("mAP_percent", "vad_mae")},
                             "persons": {"train": len(train_set), "val": len(val_set), "test": len(test_set)},
                             "checkpoint": str(checkpoint), "arch": arch})
        log.info("\n" + table)
        log.info(f"test mAP {metrics['mAP_percent']:.2f}% (baseline {baseline['mAP_percent']:.2f}%), "
                 f"VAD MAE {metrics['vad_mae']:.3f} (baseline {baseline['vad_mae']:.3f}); results in {out_dir}")
    return metrics


# --------------------------------------------------------------------------- inference
def parse_inference_rows(path: Path, image_dir: Path | None):
    """Yield ``(line_number, image_path, box, error)`` for each non-blank, non-comment line."""
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 5:
            yield number, None, None, f"expected 'path x1 y1 x2 y2', found {len(parts)} field(s)"
            continue
        try:
            box = [float(v) for v in parts[1:]]
        except ValueError:
            yield number, None, None, f"box values {parts[1:]} are not numbers"
            continue
        candidates = [Path(parts[0]), path.parent / parts[0]] + ([image_dir / parts[0]] if image_dir else [])
        image_path = next((c for c in candidates if c.is_file()), None)
        if image_path is None:
            yield number, Path(parts[0]), box, f"image {parts[0]} not found"
            continue
        yield number, image_path, box, None


def inference(args, rt: Runtime, run_dir: Path, log, loaded=None) -> Path:
    if not args.inference_file:
        raise SystemExit("error: --mode inference needs --inference_file (lines 'path x1 y1 x2 y2')")
    list_path = Path(args.inference_file)
    if not list_path.is_file():
        raise SystemExit(f"error: {list_path}: inference file not found")
    model, arch, _ = loaded or model_from_checkpoint(args.checkpoint, run_dir)
    model = rt.prepare_model(model).eval()
    thresholds_path = Path(args.thresholds) if args.thresholds else run_dir / THRESHOLDS_FILE
    thresholds = load_thresholds(thresholds_path)
    rows, port_lines, problems = [], [], 0
    image_dir = Path(args.image_dir) if args.image_dir else None
    for number, image_path, box, error in parse_inference_rows(list_path, image_dir):
        if error is None:
            image = read_rgb(image_path)
            height, width = image.shape[:2]
            clamped = clamp_bbox(box, width, height)
            if clamped[2] <= clamped[0] or clamped[3] <= clamped[1]:
                error = f"box {box} lies outside the {width}x{height} image {image_path}"
            elif list(clamped) != [int(v) for v in box]:
                log.warning(f"{list_path}:{number}: box {box} exceeds the {width}x{height} image; clamped to "
                            f"{list(clamped)}")
        if error is not None:
            problems += 1
            message = f"{list_path}:{number}: {error}"
            if args.on_bad_row == "fail":
                raise SystemExit(f"error: {message}")
            log.warning(message + " (skipped)")
            continue
        scores, vad = score_person(model, arch, image, clamped, rt)
        chosen = [name for name, s, t in zip(CATEGORIES, scores, thresholds) if s > t]
        rows.append([number, str(image_path), *clamped, ";".join(chosen), *(f"{v:.3f}" for v in vad)])
        port_lines.append(" ".join([str(image_path), *chosen, *(f"{v:.4f}" for v in vad)]))
        log.info(f"{image_path} {list(clamped)}: {', '.join(chosen) or '(none above threshold)'}; "
                 f"V {vad[0]:.2f} A {vad[1]:.2f} D {vad[2]:.2f}")
    out = Path(args.inference_output) if args.inference_output else run_dir / "inference_results.csv"
    atomic_write_csv(out, ["line", "path", "x1", "y1", "x2", "y2", "categories", *VAD_NAMES], rows)
    port_out = Path(args.inference_port_output) if args.inference_port_output else run_dir / "inference_list.txt"
    atomic_write_text(port_out, "".join(line + "\n" for line in port_lines))
    log.info(f"wrote {len(rows)} prediction(s) to {out} ({problems} bad row(s) skipped; thresholds "
             f"{thresholds_path})")
    return out


# --------------------------------------------------------------------------- entry point
def main(args: argparse.Namespace):
    output, experiment = resolve_run_location(args)
    loaded = None  # (model, arch, path) of --checkpoint, read once
    if args.mode in ("train", "train_test"):  # before any run folder exists: a missing input is one line
        require_data_path(args)
        trunk_weights = (resolve_weights(args.context_weights, args.context_model, "--context_weights"),
                         resolve_weights(args.body_weights, args.body_model, "--body_weights"))
        data = training_data(args)
    elif args.checkpoint:  # a file that is not a checkpoint of this package is refused before any folder
        loaded = model_from_checkpoint(args.checkpoint, Path(output) / experiment)
    rt = Runtime.from_namespace(args)
    result, out_dir = None, None
    try:
        if args.mode in ("train", "train_test"):
            run_dir, log = open_run(output, experiment, args, rt)
            train(args, rt, run_dir, log, trunk_weights, data)
        else:
            run_dir = output / experiment
            if not run_dir.is_dir() and args.checkpoint and Path(args.checkpoint).is_file() and rt.is_main:
                run_dir.mkdir(parents=True)  # a new folder for the outputs of a given checkpoint (a converted one)
            if not run_dir.is_dir():
                raise SystemExit(f"error: {run_dir}: run folder not found (train first, or give --experiment_path)")
            if args.mode == "test" and any((run_dir / name).exists() for name in ("results.json", THRESHOLDS_FILE)):
                # Scoring a run that was already scored never rewrites its results or the thresholds that its
                # inference uses: this evaluation gets a folder of its own.
                out_dir = new_evaluation_dir(run_dir, rt.is_main)
                if rt.is_main:
                    save_args(out_dir, args)
                log = get_logger(out_dir, rt.is_main)
                log.info("--mode test on %s: outputs in %s", run_dir, out_dir)
            else:
                log = get_logger(run_dir, rt.is_main)
        if args.mode in ("test", "train_test"):
            result = test(args, rt, run_dir, log, out_dir, loaded)
        if args.mode == "inference":
            result = inference(args, rt, run_dir, log, loaded)
    finally:
        rt.close()
    return result


if __name__ == "__main__":
    main(parse_args_with_config(main_parser()))
