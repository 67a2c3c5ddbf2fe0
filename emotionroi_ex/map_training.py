"""The training/evaluation loop behind ``train_FCNEL.py`` and ``train_EmoFCNEL.py``.

One function, :func:`run`, because the two experiments differ only in whether the network also
receives the emotion label; each script keeps its own parser and its own extra analysis.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Subset

from emotionroi_ex import DATASET, PACKAGE
from emotionroi_ex.baselines import make_baselines
from emotionroi_ex.dataset import EmotionROI, mean_map
from emotionroi_ex.model import EmoFCNEL, build_fcnel, euclidean_loss
from emotionroi_ex.optimization import build_optimizer
from emotionroi_ex.presets import PairedEvalPreset, PairedTrainPreset
from emotionroi_ex.scoring import (
    METRIC_NAMES,
    evaluate_map_function,
    fig6_grid,
    fig6_indices,
    forward_map,
    metrics_predict_fn,
    order_by_index,
    summarize,
    write_per_image_csv,
)
from shared_utils import weights as registry
from shared_utils.checkpoint import (
    load_model_weights,
)
from shared_utils.engine import collect_predictions, train_one_epoch
from shared_utils.files import resolve_data_kind
from shared_utils.recorder import RunRecorder
from shared_utils.results import Stopwatch, write_results
from shared_utils.runs import (
    BEST_CHECKPOINT,
    LAST_CHECKPOINT,
    BestTracker,
    new_evaluation_dir,
    prepare_run_dir,
    save_args,
)
from shared_utils.runtime import Runtime, get_logger
from shared_utils.splits import stratified_holdout


def build_model(args, conditioned: bool, pretrained: Path | None = None):
    """The network of ``args``; ``pretrained`` is the resolved ``--pretrained`` file (or None)."""
    if conditioned:
        return EmoFCNEL(args.arch, args.backbone, pretrained, embed_dim=args.embed_dim, upsample=args.upsample)
    return build_fcnel(args.arch, args.backbone, pretrained, upsample=args.upsample)


def experiment_name(args) -> str:
    return args.experiment or f"{args.experiment_prefix}_{args.arch}_{args.backbone}"


def run(args, conditioned: bool, extra_metrics=None):
    """Train (unless --eval-only), then score the test split; returns (output folder, model, runtime, test dataset).

    The output folder is the run folder, or with --eval-only on an existing run a new ``RUN/eval/<time>``.
    ``extra_metrics(model, test_set, rt, out_dir, log) -> dict`` (rank 0) adds a script's own analysis to the
    metrics of results.json."""
    args.data_kind = resolve_data_kind(args.data_path)  # from the data, before any run folder
    watch = Stopwatch()
    pretrained = registry.local_file(args.pretrained, "--pretrained")  # before any run folder exists
    rt = Runtime.from_namespace(args)
    experiment = experiment_name(args)
    train_full = EmotionROI(args.data_path, "train",
                            PairedTrainPreset(args.input_size, scale=tuple(args.crop_scale)))
    train_eval = EmotionROI(args.data_path, "train", PairedEvalPreset(args.eval_max_side))
    test_set = EmotionROI(args.data_path, "test", PairedEvalPreset(args.eval_max_side))
    train_idx, val_idx = (idx.tolist() for idx in stratified_holdout(train_full.labels, args.val_fraction, 0))
    if not args.eval_only and not train_idx:
        raise SystemExit(f"error: --val-fraction {args.val_fraction} leaves no training image")
    model = rt.prepare_model(build_model(args, conditioned, pretrained))
    if args.eval_only and args.weights:  # a file that is not a fitting checkpoint is refused before any folder
        load_model_weights(rt.unwrap(model), args.weights)
    run_dir, out_dir = _output_folders(args, experiment, rt)
    log = get_logger(out_dir, rt.is_main)
    log.info(f"{experiment}: {len(train_idx)} train / {len(val_idx)} val / {len(test_set)} test images; "
             f"runtime {rt.describe()}")

    chosen = BEST_CHECKPOINT if args.eval_checkpoint == "best" else LAST_CHECKPOINT
    if not args.eval_only:
        train_maps(args, model, rt, run_dir, log, conditioned, Subset(train_full, train_idx),
                   Subset(train_eval, val_idx) if val_idx else None)
        weights = run_dir / chosen
    else:
        weights = Path(args.weights) if args.weights else run_dir / chosen
    rt.barrier()  # rank 0 writes the checkpoints; everyone reads them
    if not (args.eval_only and args.weights):  # --weights was loaded above, before any folder
        load_model_weights(rt.unwrap(model), weights)
    log.info(f"scoring {weights} on the test split at native resolution")
    metrics = score_test_split(args, model, rt, out_dir, log, conditioned, test_set,
                               _SubsetView(train_full, train_idx), extra_metrics,
                               {"experiment": experiment, "weights": weights, "watch": watch})
    return out_dir, model, rt, test_set, metrics


def _output_folders(args, experiment: str, rt) -> tuple[Path, Path]:
    """(run folder, output folder): the same when training; --eval-only on an existing run writes to a new
    RUN/eval/<time> and never rewrites or deletes what the run's training wrote."""
    run_dir = Path(args.output) / experiment
    if args.eval_only and run_dir.is_dir():
        if not args.weights and not (run_dir / LAST_CHECKPOINT).is_file():
            raise SystemExit(f"error: --eval-only: {run_dir} holds no {LAST_CHECKPOINT}; give --weights FILE")
        out_dir = new_evaluation_dir(run_dir, rt.is_main)
    elif args.eval_only and not args.weights:
        raise SystemExit(f"error: --eval-only: run folder {run_dir} not found; give --weights FILE or --experiment")
    else:  # training, or --weights scored into a new run folder
        out_dir = run_dir = prepare_run_dir(args.output, experiment, args.resume, args.overwrite and not args.eval_only,
                                            rt.is_main)
    rt.barrier()  # the other ranks wait until rank 0 has (re)made the folder
    if rt.is_main:
        save_args(out_dir, args)
    return run_dir, out_dir


def map_loss_fn(loss_reduction: str, conditioned: bool):
    """The trainers' loss on a batch ``(images, maps, labels, indices)``: Euclidean loss on the stimuli maps."""

    def loss_fn(net, batch, runtime):
        images, maps, labels, _ = batch
        images, maps = runtime.to_device(images), maps.to(runtime.device)
        out = net(images, labels.to(runtime.device)) if conditioned else net(images)
        return euclidean_loss(out, maps, loss_reduction), images.shape[0]

    return loss_fn


def train_maps(args, model, rt, run_dir: Path, log, conditioned: bool, train_set, val_set) -> None:
    """The epochs: Euclidean loss on the stimuli maps, validation MAE per epoch when a hold-out exists."""
    loss_fn = map_loss_fn(args.loss, conditioned)
    predict_fn = metrics_predict_fn(conditioned)
    optimizer, scheduler = build_optimizer(args, model)
    # Kahsolt's DataLoader keeps the last, smaller batch (drop_last=False)
    train_loader = rt.loader(train_set, args.batch_size, train=True, num_workers=args.workers, drop_last=False)
    val_loader = rt.loader(val_set, 1, train=False, num_workers=args.workers) if val_set is not None else None
    recorder = RunRecorder(run_dir, BestTracker("val_mae", mode="min"), rt)
    start_epoch, _ = recorder.start(args.resume, model, optimizer, scheduler, log)
    for epoch in range(start_epoch, args.epochs):
        rt.set_epoch(train_loader, epoch)
        stats = train_one_epoch(model, train_loader, optimizer, loss_fn, rt, epoch,
                                clip_grad_norm=args.clip_grad_norm, max_steps=args.max_steps_per_epoch)
        scheduler.step()
        row = {"epoch": epoch + 1, **stats}
        if val_loader is not None:
            _, val_rows = order_by_index(collect_predictions(model, val_loader, predict_fn, rt, desc="val"))
            row.update({f"val_{m}": float(val_rows[:, k].mean()) for k, m in enumerate(METRIC_NAMES)})
        # without a validation split every epoch counts as the best (the last one is kept)
        recorder.end_epoch(epoch + 1, row, row.get("val_mae", -float(epoch + 1)), model, optimizer, scheduler)
        log.info(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
    recorder.finish()


def score_test_split(args, model, rt, out_dir: Path, log, conditioned: bool, test_set, train_view, extra_metrics,
                     run_info: dict) -> dict:
    """Test maps at native resolution: per-image CSV, the training mean map as baseline, the Fig.-6 grid, the
    script's extra analysis, results.json."""
    test_loader = rt.loader(test_set, 1, train=False, num_workers=args.workers)
    predict_fn = metrics_predict_fn(conditioned)
    _, test_rows = order_by_index(collect_predictions(model, test_loader, predict_fn, rt, desc="test"))
    metrics = summarize(test_rows, test_set.labels)
    if not rt.is_main:
        return metrics
    write_per_image_csv(out_dir / "per_image_metrics.csv", test_set, test_rows)
    # the trivial predictor of results.json: the training set's mean map
    train_mean = mean_map(train_view)
    mean_baseline = make_baselines(train_mean)["mean_map"]
    baseline, _ = evaluate_map_function(test_set, lambda i: mean_baseline(np.asarray(test_set.load_pair(i)[0])))
    predictors = {}
    if args.baselines_grid:
        for name, fn in make_baselines(train_mean).items():
            predictors[name] = (lambda f: lambda i: f(np.asarray(test_set.load_pair(i)[0])))(fn)
    predictors["FCNEL" if not conditioned else "EmoFCNEL"] = lambda i: predict_one(model, test_set, i, rt,
                                                                                    conditioned)
    indices = fig6_indices(test_set)
    grid_maes = fig6_grid(test_set, indices, predictors, out_dir / "fig6_grid.png")
    if extra_metrics is not None:
        metrics.update(extra_metrics(model, test_set, rt, out_dir, log))
    extra = {"fig6_grid_images": [test_set.files[i] for i in indices],
             "fig6_grid_mae": {k: [round(v, 4) for v in vals] for k, vals in grid_maes.items()},
             "weights": str(run_info["weights"]), "arch": args.arch, "backbone": args.backbone}
    write_results(out_dir, package=PACKAGE, experiment=run_info["experiment"], dataset=DATASET, data=args.data_kind,
                  split="test", metrics=metrics, baseline=baseline, device=rt.device_name(),
                  wall_seconds=run_info["watch"].seconds, extra=extra)
    log.info(f"test MAE {metrics['mae']:.4f} (training mean map {baseline['mae']:.4f}); "
             f"F {metrics['f_measure']:.3f}; results in {out_dir / 'results.json'}")
    return metrics


class _SubsetView:
    """The parts of EmotionROI that :func:`mean_map` reads, restricted to some indices."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, list(indices)

    def __len__(self):
        return len(self.indices)

    def map_path(self, k):
        return self.dataset.map_path(self.indices[k])


@torch.no_grad()
def predict_one(model, dataset, index: int, rt, conditioned: bool, label: int | None = None) -> np.ndarray:
    """The network's map for one image of an EmotionROI split (label: override the true one).

    Runs on one rank only, so it calls the unwrapped module (a DDP forward would wait for the other ranks)."""
    model = rt.unwrap(model)
    model.eval()
    image, stimuli_map, true_label, _ = dataset[index]
    label_t = torch.tensor([true_label if label is None else label], device=rt.device)
    with rt.eval_autocast():
        out = forward_map(model, rt.to_device(image[None]), label_t if conditioned else None,
                          stimuli_map.shape[-2:])
    return out[0].cpu().numpy()
