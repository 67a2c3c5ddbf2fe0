"""Throughput of FER training: the loader alone, the training step alone, and whether the pipeline keeps up.

    python -m fer_seresnet.bench --data-path data/fer2013 [--config fer2013_se_resnet18.yaml] [--width 32]
        [--sections loader pipeline step] [--settings fp32 bf16 channels_last jemalloc] [--rounds 3] [--threads 2]

``loader``: images/s of train.py's training DataLoader over the in-memory uint8 tensor
(``FaceTensorDataset.__getitems__``) plus the batched augmentation of presets.py, no network.
``pipeline``: the same model and optimiser fed by that real pipeline vs batches loaded and augmented beforehand,
timed in alternating rounds; the ratio real / pre-made (target >= 0.9) says whether loading is the bottleneck.
``step``: seconds per training step of train.py's own model, loss and optimiser (the recipe of ``--config``) on one
batch, each setting (precision, memory format, allocator) in its own process, alternated over ``--rounds``; on CPU,
bf16 autocast needs AVX-512 BF16 or AMX to pay off. ``--page`` times the faces page instead.
Not a test: the numbers depend on the machine and its load.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from fer_seresnet.options import bench_parser
from shared_utils.cli import answer_help_first

answer_help_first(bench_parser, __name__)

import contextlib
import statistics
import tempfile
import time
from pathlib import Path

import torch.nn.functional as F

from fer_seresnet.dataset import FaceTensorDataset, collate_batch, load_fer2013
from fer_seresnet.demo_data import write_demo
from fer_seresnet.model import build_model
from fer_seresnet.optimization import build_optimizer, make_loss_fn
from fer_seresnet.options import train_parser
from fer_seresnet.presets import FER_MEAN, FER_STD, ClassificationPresetTrain
from shared_utils import benchmarking
from shared_utils.runtime import Runtime

CONFIGS = Path(__file__).resolve().parent / "configs"


def recipe(args, data_path: str, setting: str = "fp32"):
    """train.py's namespace for ``--config`` with this benchmark's overrides and ``setting``."""
    overrides = [f"--{name.replace('_', '-')}={getattr(args, name)}" for name in ("arch", "width", "batch_size")
                 if getattr(args, name) is not None]
    argv = ["--data-path", data_path, "--device", args.device, "--threads", str(args.threads), *overrides]
    return benchmarking.recipe_args(train_parser(), args.config, CONFIGS, argv, setting)


def train_preset(trainer_args) -> ClassificationPresetTrain:
    return ClassificationPresetTrain(trainer_args.crop_size, trainer_args.hflip_prob, trainer_args.rotation,
                                     trainer_args.scale, trainer_args.translate, trainer_args.random_erase,
                                     FER_MEAN, FER_STD)


def train_loader(trainer_args, rt: Runtime):
    train = load_fer2013(trainer_args.data_path).splits["train"]
    loader = rt.loader(FaceTensorDataset(train), trainer_args.batch_size, train=True, collate_fn=collate_batch)
    if len(loader) == 0:  # an endless loop over an empty loader otherwise
        raise SystemExit(f"error: {len(train)} training images is fewer than one batch of "
                         f"{trainer_args.batch_size}; lower --batch-size")
    return loader


def step_seconds(args, data_path: str, setting: str) -> dict:
    trainer_args = recipe(args, data_path, setting)
    rt = Runtime.from_namespace(trainer_args)
    model = rt.prepare_model(build_model(trainer_args.arch, 7, trainer_args.width, trainer_args.dropout,
                                         trainer_args.zero_init_residual))
    batch = next(iter(train_loader(trainer_args, rt)))
    loss_fn = make_loss_fn(train_preset(trainer_args), trainer_args.label_smoothing, False)
    seconds = benchmarking.time_train_steps(model, batch, build_optimizer(trainer_args, model), loss_fn, rt, args.steps)
    return {"seconds_per_step": seconds, "images_per_s": trainer_args.batch_size / seconds,
            "peak_rss_mib": benchmarking.peak_rss_mib(), "runtime": rt.describe()}


def loader_rate(args, data_path: str) -> dict:
    trainer_args = recipe(args, data_path)
    rt = Runtime.from_namespace(trainer_args)
    loader, preset = train_loader(trainer_args, rt), train_preset(trainer_args)
    benchmarking.reset_peak_rss()
    started, images = time.perf_counter(), 0
    for batch in loader:
        images += preset(rt.to_device(batch["image"])).shape[0]
    rate = images / (time.perf_counter() - started)
    return {"rate": rate, "count": images, "peak_rss_mib": benchmarking.peak_rss_mib()}


def _step(model, optimizer, images, labels):
    loss = F.cross_entropy(model(images), labels)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def pipeline_rates(args, data_path: str) -> dict[str, float]:
    """Training images/s fed by the real pipeline vs by pre-made batches, alternated (fp32)."""
    trainer_args = recipe(args, data_path)
    rt = Runtime.from_namespace(trainer_args)
    model = rt.prepare_model(build_model(trainer_args.arch, 7, trainer_args.width, trainer_args.dropout,
                                         trainer_args.zero_init_residual))
    model.train()
    optimizer = build_optimizer(trainer_args, model)
    preset, loader = train_preset(trainer_args), train_loader(trainer_args, rt)
    batch_size = trainer_args.batch_size

    def batches():
        while True:
            yield from loader

    stream = batches()
    premade = []
    for _ in range(args.steps):
        batch = next(stream)
        premade.append((preset(rt.to_device(batch["image"])), rt.to_device(batch["label"])))

    def real_round():
        start = time.perf_counter()
        for _ in range(args.steps):
            batch = next(stream)
            _step(model, optimizer, preset(rt.to_device(batch["image"])), rt.to_device(batch["label"]))
        return args.steps * batch_size / (time.perf_counter() - start)

    def premade_round():
        start = time.perf_counter()
        for images, labels in premade:
            _step(model, optimizer, images, labels)
        return args.steps * batch_size / (time.perf_counter() - start)

    premade_round()  # warm-up (allocator, kernels)
    real, made = [], []
    for _ in range(args.rounds):
        real.append(real_round())
        made.append(premade_round())
    result = {"real_images_per_s": statistics.median(real), "premade_images_per_s": statistics.median(made)}
    result["ratio"] = result["real_images_per_s"] / result["premade_images_per_s"]
    return result


def page_latency(photos: list[str], rounds: int) -> dict[str, float]:
    """Median seconds from upload to result of the faces page (``python -m fer_seresnet.app``, served in a
    subprocess, called as a browser would through ``gradio_client``); the first call is reported apart."""
    import numpy as np
    from PIL import Image

    from shared_utils.webapp import served

    if len(photos) > 1:  # a 1920x1080 scene with one face per photo, side by side
        canvas = Image.new("RGB", (1920, 1080), (128, 128, 128))
        side = 1920 // len(photos)
        for k, path in enumerate(photos):
            with Image.open(path) as face:
                face = face.convert("RGB")
                face.thumbnail((side - 40, 1000))
                canvas.paste(face, (k * side + (side - face.width) // 2, (1080 - face.height) // 2))
        photo = Path(tempfile.mkdtemp(prefix="fer_page_bench_")) / "scene.jpg"
        canvas.save(photo, quality=92)
    else:
        photo = Path(photos[0])
    with Image.open(photo) as image:
        width, height = image.size
    with served("fer_seresnet.app") as url:
        from gradio_client import Client, handle_file

        client = Client(url, verbose=False)
        seconds, faces = [], 0
        for _ in range(rounds + 1):
            start = time.perf_counter()
            _, found, status = client.predict(handle_file(str(photo)), False, api_name="/predict_photo")
            seconds.append(time.perf_counter() - start)
            faces = len(found or [])
    return {"width": width, "height": height, "faces": faces, "first_seconds": seconds[0],
            "median_seconds": float(np.median(seconds[1:])), "runs_seconds": seconds[1:]}


def main(argv: list[str] | None = None) -> dict:
    args = bench_parser().parse_args(argv)
    if args.page:
        result = page_latency(args.page, args.rounds)
        print(f"faces page, {result['width']}x{result['height']} photo with {result['faces']} face(s): upload to "
              f"result median {result['median_seconds']:.2f} s over {args.rounds} runs (first call "
              f"{result['first_seconds']:.2f} s)")
        return result
    with contextlib.ExitStack() as stack:
        data_path = args.data_path
        if data_path is None:
            data_path = str(write_demo(stack.enter_context(tempfile.TemporaryDirectory(prefix="fer_bench_")))
                            / "fer2013")
        shown = recipe(args, data_path)
        overrides = [f"--{name.replace('_', '-')}={getattr(args, name)}" for name in ("arch", "width", "batch_size")
                     if getattr(args, name) is not None]
        child = ["--data-path", data_path, "--config", args.config, "--device", args.device, *overrides]
        header = (f"fer_seresnet bench: {args.config}: {shown.arch} width {shown.width}, crop {shown.crop_size}, "
                  f"batch {shown.batch_size}; data {data_path}")
        result = benchmarking.run_sections(args, "fer_seresnet.bench", child, header, "images", shown.batch_size,
                              lambda: loader_rate(args, data_path),
                              lambda setting: step_seconds(args, data_path, setting))
        if "pipeline" in args.sections and not args.setting:
            result["pipeline"] = row = pipeline_rates(args, data_path)
            print(f"pipeline ({args.rounds} x {args.steps} steps, fp32): real {row['real_images_per_s']:.1f} img/s, "
                  f"pre-made {row['premade_images_per_s']:.1f} img/s, ratio {row['ratio']:.3f}")
        return result


if __name__ == "__main__":
    main()
