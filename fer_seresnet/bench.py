"""Is the input pipeline the bottleneck?  Training images/s with the real pipeline vs pre-made tensors.

    python -m fer_seresnet.bench --data-path data/fer2013 --arch se_resnet18 --width 16 --threads 1

"real": the training DataLoader over the in-memory uint8 tensor (``FaceTensorDataset.__getitems__``) plus the
batched augmentation of presets.py, exactly as train.py runs them.  "pre-made": the same model and optimiser fed
batches that were loaded and augmented beforehand.  The two are timed in alternating rounds (the CPU may be shared;
alternation spreads other load over both) and the ratio real / pre-made is reported (target >= 0.9).

``--precision`` instead times the training step on pre-made batches in four numeric setups, again in alternating
rounds: fp32, bf16 autocast, channels_last, and bf16 autocast + channels_last; each rate is reported with its ratio
to fp32 (on CPU, bf16 autocast needs AVX-512 BF16 or AMX to pay off).
"""

from __future__ import annotations

import contextlib
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from fer_seresnet.dataset import FaceTensorDataset, collate_batch, load_fer2013
from fer_seresnet.model import ARCHS, build_model
from fer_seresnet.presets import ClassificationPresetTrain
from shared_utils.cli import ArgumentParser, nonnegative_int, positive_int
from shared_utils.runtime import Runtime


def _step(model, optimizer, images, labels):
    loss = F.cross_entropy(model(images), labels)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def run(args) -> dict[str, float]:
    if args.threads:
        torch.set_num_threads(args.threads)
    rt = Runtime.from_args(args.device, False, False, 0, False)
    if args.data_path:
        data = load_fer2013(args.data_path)
    else:
        from fer_seresnet.demo_data import write_demo

        folder = tempfile.mkdtemp(prefix="fer_bench_")
        write_demo(folder)
        data = load_fer2013(f"{folder}/fer2013")
    train = data.splits["train"]
    model = rt.prepare_model(build_model(args.arch, width=args.width))
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    preset = ClassificationPresetTrain(args.crop_size, random_erase_prob=0.25)
    loader = rt.loader(FaceTensorDataset(train), args.batch_size, train=True, collate_fn=collate_batch)
    if len(loader) == 0:  # an endless loop over an empty loader otherwise
        raise SystemExit(f"error: {len(train)} training images is fewer than one batch of {args.batch_size}; "
                         "lower --batch-size")

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
        return args.steps * args.batch_size / (time.perf_counter() - start)

    def premade_round():
        start = time.perf_counter()
        for images, labels in premade:
            _step(model, optimizer, images, labels)
        return args.steps * args.batch_size / (time.perf_counter() - start)

    premade_round()  # warm-up (allocator, kernels)
    real, made = [], []
    for _ in range(args.rounds):
        real.append(real_round())
        made.append(premade_round())
    result = {"real_images_per_s": statistics.median(real), "premade_images_per_s": statistics.median(made)}
    result["ratio"] = result["real_images_per_s"] / result["premade_images_per_s"]
    return result


def precision_rates(args) -> dict[str, float]:
    """Training images/s on pre-made batches: fp32 vs bf16 autocast vs channels_last (vs both), alternated."""
    if args.threads:
        torch.set_num_threads(args.threads)
    rt = Runtime.from_args(args.device, False, False, 0, False)
    torch.manual_seed(0)
    labels = torch.randint(0, 7, (args.batch_size,), device=rt.device)
    images = torch.randn(args.batch_size, 1, args.crop_size, args.crop_size, device=rt.device)
    setups = {"fp32": (False, False), "bf16_autocast": (True, False), "channels_last": (False, True),
              "bf16_autocast_channels_last": (True, True)}
    states = {}
    for name, (_, channels_last) in setups.items():
        model = build_model(args.arch, width=args.width).to(rt.device)
        memory_format = torch.channels_last if channels_last else torch.contiguous_format
        model = model.to(memory_format=memory_format).train()
        states[name] = (model, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9),
                        images.contiguous(memory_format=memory_format))

    def timed(name):
        model, optimizer, batch = states[name]
        bf16 = setups[name][0]
        context = torch.autocast(rt.device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
        start = time.perf_counter()
        for _ in range(args.steps):
            with context:
                loss = F.cross_entropy(model(batch), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        return args.steps * args.batch_size / (time.perf_counter() - start)

    for name in setups:  # warm-up
        timed(name)
    rates = {name: [] for name in setups}
    for _ in range(args.rounds):
        for name in setups:
            rates[name].append(timed(name))
    result = {f"{name}_images_per_s": statistics.median(r) for name, r in rates.items()}
    for name in setups:
        result[f"{name}_vs_fp32"] = result[f"{name}_images_per_s"] / result["fp32_images_per_s"]
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


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-path", default=None, help="FER2013 (csv or folders); default: demo data in a tmp dir")
    parser.add_argument("--arch", default="se_resnet18", choices=ARCHS)
    parser.add_argument("--width", default=16, type=positive_int)
    parser.add_argument("--crop-size", default=44, type=positive_int)
    parser.add_argument("-b", "--batch-size", default=64, type=positive_int)
    parser.add_argument("--steps", default=10, type=positive_int, help="training steps per timed round")
    parser.add_argument("--rounds", default=3, type=positive_int)
    parser.add_argument("--threads", default=0, type=nonnegative_int, help="torch CPU threads (0: default)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", action="store_true",
                        help="compare fp32, bf16 autocast and channels_last instead of the input pipeline")
    parser.add_argument("--page", nargs="+", default=None, metavar="PHOTO",
                        help="time the faces page instead: upload to result for one photo through the served page "
                             "(several photos are first pasted side by side on a 1920x1080 canvas)")
    args = parser.parse_args(argv)
    if args.page:
        result = page_latency(args.page, args.rounds)
        print(f"faces page, {result['width']}x{result['height']} photo with {result['faces']} face(s): upload to "
              f"result median {result['median_seconds']:.2f} s over {args.rounds} runs (first call "
              f"{result['first_seconds']:.2f} s)")
        return result
    if args.precision:
        result = precision_rates(args)
        print(f"{args.arch} width {args.width}, batch {args.batch_size}, {args.rounds} x {args.steps} steps, "
              "training images/s: " + ", ".join(
                  f"{name.removesuffix('_images_per_s')} {value:.1f}" for name, value in result.items()
                  if name.endswith("_images_per_s")))
        return result
    result = run(args)
    print(f"{args.arch} width {args.width}, batch {args.batch_size}, {args.rounds} x {args.steps} steps: "
          f"real pipeline {result['real_images_per_s']:.1f} img/s, pre-made tensors "
          f"{result['premade_images_per_s']:.1f} img/s, ratio {result['ratio']:.3f}")
    return result


if __name__ == "__main__":
    main()
