"""Why does the SE-ResNet start slower than the plain CNN?  Equal steps, same batches, one factor changed at a time.

    python -m fer_seresnet.early_learning --data-path data/fer2013 --steps 300

Each variant (``ARCH:INIT:OPTIMISER:LR``) trains from the same seed on the same sequence of batches (FER2013
Training minus a seeded holdout of 1,500 images, centre 44x44 crop, horizontal flips, bf16 autocast +
channels_last), then prints the mean training loss of its first and last 50 steps, the holdout accuracy, and the
mean |gamma| of the residual branches' last BatchNorm (0 = the blocks are still identities). INIT is ``zero``
(zero-init residual, Goyal et al. 2017), ``std`` (every BN gamma 1) or ``std-nose`` (no SE blocks: plain ResNet
basic blocks). This is a diagnostic of the first few hundred steps, not a ranking of the networks.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from fer_seresnet.options import early_learning_parser as get_args_parser
from shared_utils.cli import answer_help_first

answer_help_first(get_args_parser, __name__)

import time

import numpy as np
import torch
import torch.nn.functional as F

from fer_seresnet.dataset import load_fer2013
from fer_seresnet.model import SEBasicBlock, build_model
from fer_seresnet.options import ARCHS
from fer_seresnet.presets import FER_MEAN, FER_STD


def parse_variant(text: str) -> tuple[str, str, str, float]:
    try:
        arch, init, opt, lr = text.split(":")
        lr_value = float(lr)
    except ValueError:
        raise SystemExit(f"error: variant {text!r}: expected ARCH:INIT:OPTIMISER:LR, "
                         "e.g. se_resnet18:std:sgd:0.05") from None
    if arch not in ARCHS or init not in ("zero", "std", "zero-nose", "std-nose") or opt not in ("sgd", "adamw") \
            or not lr_value > 0:
        raise SystemExit(f"error: variant {text!r}: ARCH in {ARCHS}, INIT zero|std|zero-nose|std-nose, "
                         "OPTIMISER sgd|adamw, LR > 0")
    return arch, init, opt, lr_value


def centre_crop(images: torch.Tensor, size: int = 44) -> torch.Tensor:
    top = (images.shape[-1] - size) // 2
    x = images[:, None, top:top + size, top:top + size].float() / 255
    return ((x - FER_MEAN) / FER_STD).contiguous(memory_format=torch.channels_last)


def run_variant(text: str, images: torch.Tensor, labels: torch.Tensor, steps: int, batch_size: int,
                width: int, holdout: int = 1500) -> dict:
    arch, init, opt, lr = parse_variant(text)
    torch.manual_seed(0)
    model = build_model(arch, 7, width, 0.3, zero_init_residual=init.startswith("zero"))
    if init.endswith("nose"):
        for block in model.modules():
            if isinstance(block, SEBasicBlock):
                block.se = torch.nn.Identity()
    model = model.to(memory_format=torch.channels_last)
    if opt == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    else:
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    order = torch.randperm(len(labels) - holdout, generator=torch.Generator().manual_seed(1)) + holdout
    flips = torch.rand(steps * batch_size, generator=torch.Generator().manual_seed(2)) < 0.5
    start, losses = time.perf_counter(), []
    model.train()
    for step in range(steps):
        index = order[(step * batch_size) % len(order):][:batch_size]
        x = centre_crop(images[index])
        flip = flips[step * batch_size:][:len(index)]
        x[flip] = x[flip].flip(-1)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = F.cross_entropy(model(x), labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        accuracy = float((model(centre_crop(images[:holdout])).float().argmax(1) == labels[:holdout]).float().mean())
    gammas = [float(b.bn2.weight.detach().abs().mean()) for b in model.modules() if isinstance(b, SEBasicBlock)]
    return {"variant": text, "loss_first50": float(np.mean(losses[:50])), "loss_last50": float(np.mean(losses[-50:])),
            "holdout_accuracy": accuracy, "residual_gamma": float(np.mean(gammas)) if gammas else float("nan"),
            "seconds": time.perf_counter() - start}




def main(argv: list[str] | None = None) -> list[dict]:
    args = get_args_parser().parse_args(argv)
    if args.steps < 50 or args.batch_size < 1 or args.width < 1:
        raise SystemExit("error: --steps must be >= 50 (the loss is averaged over 50 steps), --batch-size and "
                         "--width >= 1")
    for text in args.variants:
        parse_variant(text)  # every variant checked before the first one trains
    torch.set_num_threads(args.threads)
    train = load_fer2013(args.data_path).splits["train"]
    shuffle = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))
    images, labels = train.images[shuffle], train.labels[shuffle]
    holdout = args.holdout
    if holdout >= len(labels) - args.batch_size:
        raise SystemExit(f"error: --holdout {holdout} leaves fewer than one batch of the {len(labels)} images")
    print(f"{len(labels) - holdout} training images, holdout {holdout}; {args.steps} steps of {args.batch_size}, "
          f"width {args.width}")
    print(f"{'variant':32s} {'loss 1-50':>9s} {'loss last 50':>12s} {'holdout acc':>11s} {'|gamma|':>8s} {'s':>5s}")
    rows = []
    for text in args.variants:
        row = run_variant(text, images, labels, args.steps, args.batch_size, args.width, holdout)
        rows.append(row)
        print(f"{text:32s} {row['loss_first50']:9.3f} {row['loss_last50']:12.3f} {row['holdout_accuracy']:11.3f} "
              f"{row['residual_gamma']:8.3f} {row['seconds']:5.0f}", flush=True)
    return rows


if __name__ == "__main__":
    main()
