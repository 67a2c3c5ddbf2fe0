"""Throughput of the stimuli-map training: the loader alone and the training step alone, with peak memory.

    python -m emotionroi_ex.bench [--data-path data/EmotionROI] [--config fcnel_kahsolt.yaml] [--batch-size 4]
        [--sections loader step] [--settings fp32 bf16 channels_last jemalloc] [--rounds 3] [--threads 2]

``loader``: images/s of the training DataLoader (decode, random resized crop, flip, tensors) over the train split.
``step``: seconds per training step of ``train_FCNEL.py``'s own model, loss and optimiser (the recipe of
``--config``) on one real batch of that loader, each setting (precision, memory format, allocator) in its own
process, alternated over ``--rounds``. Without ``--data-path`` the demo dataset is written to a temporary folder
(its images are 96-144 px; the recipe's crops are still the recipe's size). Not a test: the numbers depend on the
machine and its load.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from emotionroi_ex.options import bench_parser
from shared_utils.cli import answer_help_first

answer_help_first(bench_parser, __name__)

import contextlib
import tempfile
import time
from pathlib import Path

from emotionroi_ex.dataset import EmotionROI
from emotionroi_ex.demo_data import write_demo_dataset
from emotionroi_ex.map_training import build_model, map_loss_fn
from emotionroi_ex.optimization import build_optimizer
from emotionroi_ex.options import train_fcnel_parser
from emotionroi_ex.presets import PairedTrainPreset
from shared_utils import benchmarking
from shared_utils.runtime import Runtime

CONFIGS = Path(__file__).resolve().parent / "configs"


def recipe(args, data_path: str, setting: str = "fp32"):
    """The trainer's namespace for ``--config`` with this benchmark's batch, threads and ``setting``."""
    batch = ["--batch-size", str(args.batch_size)] if args.batch_size else []
    argv = ["--data-path", data_path, "--threads", str(args.threads), *batch]
    return benchmarking.recipe_args(train_fcnel_parser(), args.config, CONFIGS, argv, setting)


def train_loader(trainer_args, rt: Runtime):
    train_set = EmotionROI(trainer_args.data_path, "train",
                           PairedTrainPreset(trainer_args.input_size, scale=tuple(trainer_args.crop_scale)))
    return rt.loader(train_set, trainer_args.batch_size, train=True, drop_last=False)


def step_seconds(args, data_path: str, setting: str) -> dict:
    trainer_args = recipe(args, data_path, setting)
    rt = Runtime.from_namespace(trainer_args)
    model = rt.prepare_model(build_model(trainer_args, conditioned=False))
    optimizer, _ = build_optimizer(trainer_args, model)
    batch = next(iter(train_loader(trainer_args, rt)))
    loss_fn = map_loss_fn(trainer_args.loss, False)
    seconds = benchmarking.time_train_steps(model, batch, optimizer, loss_fn, rt, args.steps)
    return {"seconds_per_step": seconds, "images_per_s": batch[0].shape[0] / seconds,
            "peak_rss_mib": benchmarking.peak_rss_mib(), "runtime": rt.describe()}


def loader_rate(args, data_path: str) -> dict:
    trainer_args = recipe(args, data_path)
    loader = train_loader(trainer_args, Runtime.from_namespace(trainer_args))
    benchmarking.reset_peak_rss()
    started, images = time.perf_counter(), 0
    for images_batch, *_ in loader:
        images += images_batch.shape[0]
    rate = images / (time.perf_counter() - started)
    return {"rate": rate, "count": images, "peak_rss_mib": benchmarking.peak_rss_mib()}


def main(argv=None) -> dict:
    args = bench_parser().parse_args(argv)
    with contextlib.ExitStack() as stack:
        data_path = args.data_path
        if data_path is None:
            data_path = str(write_demo_dataset(Path(stack.enter_context(tempfile.TemporaryDirectory())) / "demo"))
        shown = recipe(args, data_path)
        child = ["--data-path", data_path, "--config", args.config,
                 *(["--batch-size", str(args.batch_size)] if args.batch_size else [])]
        header = (f"emotionroi_ex bench: {args.config}: {shown.arch} {shown.backbone}, crops {shown.input_size} px, "
                  f"batch {shown.batch_size}, loss {shown.loss}; data {data_path}")
        return benchmarking.run_sections(args, "emotionroi_ex.bench", child, header, "images", shown.batch_size,
                            lambda: loader_rate(args, data_path),
                            lambda setting: step_seconds(args, data_path, setting))


if __name__ == "__main__":
    main()
