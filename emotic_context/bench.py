"""Throughput of the EMOTIC training: the loader alone and the training step alone, with peak memory.

    python -m emotic_context.bench [--persons 208] [--batch_size 52] [--sections loader step]
        [--settings fp32 bf16 channels_last jemalloc] [--rounds 3] [--threads 2]

A demo EMOTIC layout of ``--persons`` training persons is generated in a temporary folder and turned into the
port's npy cache at its sizes (context 224 px, body 128 px) by ``mat2py.py``. ``loader``: persons/s of
``main.py``'s training DataLoader over that cache (colour jitter, flips, normalisation). ``step``: seconds per
training step of ``main.py``'s own model (two ResNet-18 trunks and the fusion head, random weights), loss and
optimiser on one batch of that loader, each setting (precision, memory format, allocator) in its own process,
alternated over ``--rounds``. Preprocessing memory has its own benchmark, ``bench_preprocess.py``. Not a test: the
numbers depend on the machine and its load.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from emotic_context.options import bench_parser
from shared_utils.cli import answer_help_first

answer_help_first(bench_parser, __name__)

import contextlib
import tempfile
import time
from pathlib import Path

from emotic_context import options
from emotic_context.demo_data import generate
from emotic_context.model import EmoticModel
from emotic_context.training import arch_from_args, build_dataset, build_optimizer, loss_function
from shared_utils import benchmarking
from shared_utils.runs import run_script
from shared_utils.runtime import Runtime


def make_cache(folder: Path, persons: int) -> Path:
    """A demo layout and its npy cache at the port's sizes; returns the cache folder (main.py's --data_path)."""
    root = generate(folder / "demo", {"train": persons, "val": 1, "test": 1}, size_range=((256, 320), (224, 288)))
    run_script("emotic_context.mat2py", ["--data_dir", str(root), "--label", "train", "--generate_npy"])
    return root / "emotic_pre"


def recipe(args, data_path: Path, setting: str = "fp32"):
    argv = ["--data_path", str(data_path), "--batch_size", str(args.batch_size), "--threads", str(args.threads),
            "--context_model", args.context_model, "--body_model", args.body_model,
            *benchmarking.runtime_flags(setting)]
    return options.main_parser().parse_args(argv)


def train_loader(trainer_args, rt: Runtime):
    train_set = build_dataset(trainer_args, arch_from_args(trainer_args), "train", train=True)
    return train_set, rt.loader(train_set, trainer_args.batch_size, train=True)


def step_seconds(args, data_path: Path, setting: str) -> dict:
    trainer_args = recipe(args, data_path, setting)
    rt = Runtime.from_namespace(trainer_args)
    model = rt.prepare_model(EmoticModel(trainer_args.context_model, trainer_args.body_model, None, None))
    train_set, loader = train_loader(trainer_args, rt)
    batch = next(iter(loader))
    loss_fn = loss_function(trainer_args, train_set.cat_labels.sum(axis=0))
    seconds = benchmarking.time_train_steps(model, batch, build_optimizer(trainer_args, model), loss_fn, rt, args.steps)
    return {"seconds_per_step": seconds, "persons_per_s": batch[0].shape[0] / seconds,
            "peak_rss_mib": benchmarking.peak_rss_mib(), "runtime": rt.describe()}


def loader_rate(args, data_path: Path) -> dict:
    trainer_args = recipe(args, data_path)
    _, loader = train_loader(trainer_args, Runtime.from_namespace(trainer_args))
    benchmarking.reset_peak_rss()
    started, persons = time.perf_counter(), 0
    for batch in loader:
        persons += batch[0].shape[0]
    rate = persons / (time.perf_counter() - started)
    return {"rate": rate, "count": persons, "peak_rss_mib": benchmarking.peak_rss_mib()}


def main(argv=None) -> dict:
    args = bench_parser().parse_args(argv)
    with contextlib.ExitStack() as stack:
        if args.data_path:  # a child run: the parent's cache
            data_path = Path(args.data_path)
        else:
            data_path = make_cache(Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="emotic_bench_"))),
                                   args.persons)
        child = ["--data_path", str(data_path), "--batch_size", str(args.batch_size), "--context_model",
                 args.context_model, "--body_model", args.body_model]
        header = (f"emotic_context bench: {args.context_model} context (224 px) + {args.body_model} body (128 px), "
                  f"batch {args.batch_size}, {args.persons} generated persons")
        return benchmarking.run_sections(args, "emotic_context.bench", child, header, "persons", args.batch_size,
                            lambda: loader_rate(args, data_path),
                            lambda setting: step_seconds(args, data_path, setting))


if __name__ == "__main__":
    main()
