"""One training epoch and one prediction pass, as in torchvision's reference ``train_one_epoch``.

The package supplies what differs (how a batch becomes a loss, or outputs) as a small function;
AMP, GradScaler, gradient clipping, DDP gathering and progress bars are handled here once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch

from shared_utils.runtime import Runtime, all_gather_cat, progress

# loss_fn(model, batch, runtime) -> (loss tensor, number of samples in the batch)
LossFn = Callable[[torch.nn.Module, Any, Runtime], tuple[torch.Tensor, int]]
# predict_fn(model, batch, runtime) -> dict of per-sample tensors (first dim = batch)
PredictFn = Callable[[torch.nn.Module, Any, Runtime], dict[str, torch.Tensor]]


def train_one_epoch(
    model: torch.nn.Module,
    loader: Iterable,
    optimizer: torch.optim.Optimizer,
    loss_fn: LossFn,
    rt: Runtime,
    epoch: int,
    scheduler_per_step: Any = None,
    clip_grad_norm: float | None = None,
    max_steps: int | None = None,
    diverged_hint: str = "lower the learning rate or check the inputs",
) -> dict[str, float]:
    """Train for one pass over ``loader``; returns ``{"train_loss": mean, "lr": last lr}``.

    A non-finite loss stops training with a clear error instead of silently producing NaN weights; the error ends
    with ``diverged_hint``, what the package advises.
    """
    model.train()
    total, count = 0.0, 0
    bar = progress(loader, desc=f"epoch {epoch} train", enabled=rt.is_main)
    steps_done = 0
    try:
        for step, batch in enumerate(bar):
            if max_steps is not None and step >= max_steps:
                break
            loss_value, batch_size = _train_step(model, batch, optimizer, loss_fn, rt, epoch, step,
                                                 scheduler_per_step, clip_grad_norm, diverged_hint)
            total += loss_value * batch_size
            count += batch_size
            steps_done += 1
            bar.set_postfix(loss=f"{total / max(count, 1):.4f}")
    except KeyboardInterrupt:
        bar.close()
        raise SystemExit(f"interrupted in epoch {epoch + 1} after {steps_done} step(s): the run folder holds the last "
                         "finished epoch; the same command with --resume continues from there") from None
    stats = torch.tensor([total, count], dtype=torch.float64, device=rt.device)
    if rt.dist.distributed:
        torch.distributed.all_reduce(stats)
    mean = float(stats[0] / stats[1]) if stats[1] > 0 else math.nan
    return {"train_loss": mean, "lr": optimizer.param_groups[0]["lr"]}


def _train_step(model, batch, optimizer, loss_fn, rt, epoch, step, scheduler_per_step, clip_grad_norm, diverged_hint):
    with rt.autocast():
        loss, batch_size = loss_fn(model, batch, rt)
    if not torch.isfinite(loss):
        raise SystemExit(f"error: training loss became {loss.item()} at epoch {epoch} step {step}; {diverged_hint}")
    optimizer.zero_grad(set_to_none=True)
    rt.scaler.scale(loss).backward()
    if clip_grad_norm:
        rt.scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
    rt.scaler.step(optimizer)
    rt.scaler.update()
    if scheduler_per_step is not None:
        scheduler_per_step.step()
    return float(loss.detach()), batch_size


@torch.no_grad()
def collect_predictions(
    model: torch.nn.Module, loader: Iterable, predict_fn: PredictFn, rt: Runtime, desc: str = "eval"
) -> dict[str, torch.Tensor]:
    """Run ``predict_fn`` over ``loader`` and concatenate its outputs (on CPU, float32).

    Under DDP every rank scores its share (the eval loader does not pad) and the results are
    gathered, so every rank returns the full, de-duplicated set in rank-interleaved order.
    """
    model.eval()
    parts: dict[str, list[torch.Tensor]] = {}
    for batch in progress(loader, desc=desc, enabled=rt.is_main):
        with rt.eval_autocast():
            outputs = predict_fn(model, batch, rt)
        for key, value in outputs.items():
            value = value.detach()
            parts.setdefault(key, []).append(value.float() if value.is_floating_point() else value)
    result = {}
    for key, values in parts.items():
        merged = torch.cat(values, dim=0)
        result[key] = all_gather_cat(merged).cpu()
    return result


def weight_decay_groups(model: torch.nn.Module, weight_decay: float,
                        no_decay: Callable[[str, torch.nn.Parameter], bool] = lambda name, p: p.ndim <= 1,
                        ) -> list[dict]:
    """Optimizer parameter groups: trainable parameters with ``weight_decay``, and those ``no_decay(name, param)``
    picks (by default every 1-D one: BatchNorm weights and biases, biases) without; empty groups are left out."""
    decay, keep = [], []
    for name, param in model.named_parameters():
        if param.requires_grad:
            (keep if no_decay(name, param) else decay).append(param)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": keep, "weight_decay": 0.0}]
    return [group for group in groups if group["params"]]
