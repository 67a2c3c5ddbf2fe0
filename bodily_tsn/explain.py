"""Rebuilding a trained run's model from its args.yaml, and Grad-CAM of one clip per stream: shared by the ``cam.py``
script and the bodily page (``app.py``)."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import yaml

from bodily_tsn.dataset import LABELS
from bodily_tsn.model import BodilyTSN, TSNTower, build_model
from bodily_tsn.options import get_args_parser
from bodily_tsn.presets import denormalize
from shared_utils.checkpoint import load_model_weights
from shared_utils.gradcam import CamExplainer, preset_target_layers
from shared_utils.runs import BEST_CHECKPOINT


class StreamLogits(torch.nn.Module):
    """One stream's tower as a 4-D-input classifier: ``(1, T*3, H, W)`` -> ``(1, 8)`` label logits,
    so pytorch-grad-cam sees the T frames as the trunk's activation batch (one map per frame)."""

    def __init__(self, tower: TSNTower):
        super().__init__()
        self.tower = tower

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        clips = x.view(batch, channels // 3, 3, height, width)
        return self.tower(clips)[:, : len(LABELS)]


def load_run_args(run: Path) -> argparse.Namespace:
    path = run / "args.yaml"
    if not path.is_file():
        raise SystemExit(f"error: {path}: not found (is {run} a bodily_tsn run folder?)")
    saved = yaml.safe_load(path.read_text()) or {}
    args = get_args_parser().parse_args([])
    for key, value in saved.items():
        setattr(args, key, value)
    return args


def explain_clip(model: BodilyTSN, frames: torch.Tensor, label: int, method: str) -> dict[str, dict]:
    """``frames`` (S, T, 3, H, W) -> per stream: heat maps (T, H, W), images (T, H, W, 3), score."""
    out = {}
    for s, stream in enumerate(model.streams):
        tower = model.tower(stream)
        wrapper = StreamLogits(tower).eval()
        preset = "resnet" if tower.arch == "resnet50" else "mobilenet_v2"
        inputs = frames[s].flatten(0, 1).unsqueeze(0)  # (1, T*3, H, W)
        with torch.no_grad():
            score = float(torch.sigmoid(wrapper(inputs)[0, label]))
        with CamExplainer(wrapper, preset_target_layers(tower.trunk, preset), method=method) as explainer:
            maps = explainer(inputs, target_index=label, multilabel=True)
        out[stream] = {"maps": maps, "images": denormalize(frames[s]), "score": score}
    return out


def load_run_model(run: Path, checkpoint: str | Path | None = None) -> tuple[BodilyTSN, argparse.Namespace]:
    """The run's network (options from its args.yaml) with the checkpoint's weights (default: its best), eval mode."""
    args = load_run_args(run)
    model = build_model(args, None)  # the checkpoint holds every weight
    load_model_weights(model, Path(checkpoint) if checkpoint else run / BEST_CHECKPOINT)
    return model.eval(), args
