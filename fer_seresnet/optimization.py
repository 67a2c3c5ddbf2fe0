"""What train.py minimises and how: the loss on a batch, the optimiser, the learning-rate schedule (bench.py times
the same pieces)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from fer_seresnet.presets import ClassificationPresetTrain
from shared_utils.engine import weight_decay_groups


def make_loss_fn(preset: ClassificationPresetTrain, label_smoothing: float, soft_targets: bool):
    def loss_fn(model, batch, rt):
        images = preset(rt.to_device(batch["image"]))
        logits = model(rt.to_device(images))
        if soft_targets and "soft" in batch:
            target = rt.to_device(batch["soft"])
            target = target * (1 - label_smoothing) + label_smoothing / target.shape[1]
            loss = -(target * F.log_softmax(logits.float(), 1)).sum(1).mean()
        else:
            loss = F.cross_entropy(logits.float(), rt.to_device(batch["label"]), label_smoothing=label_smoothing)
        return loss, images.shape[0]

    return loss_fn


def build_optimizer(args, model):
    # No weight decay on BatchNorm and biases (standard for ResNets; decaying them only hurts).
    groups = weight_decay_groups(model, args.weight_decay)
    if args.opt == "sgd":
        return torch.optim.SGD(groups, lr=args.lr, momentum=args.momentum, nesterov=args.nesterov and args.momentum > 0)
    return torch.optim.AdamW(groups, lr=args.lr)


def build_scheduler(args, optimizer, steps_per_epoch: int, clock=None):
    """Returns (scheduler, per_step). Cosine with linear warm-up steps every batch; plateau once per epoch.

    With ``clock`` (a function returning the fraction of the time budget spent), cosine progress is the larger of
    the step fraction and the time fraction, so the learning rate is annealed when the budget runs out however
    fast this (possibly shared) machine turns out to be.
    """
    if args.lr_scheduler == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=args.plateau_factor,
                                                          patience=args.plateau_patience), False
    if args.lr_scheduler == "none":
        return None, False
    total = max(args.epochs * steps_per_epoch, 1)
    warmup = min(args.lr_warmup_epochs * steps_per_epoch, total - 1)
    floor = args.lr_min / args.lr if args.lr > 0 else 0.0

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        progress = (step - warmup) / max(total - warmup, 1)
        if clock is not None:
            progress = max(progress, clock())
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor), True
