"""Grad-CAM, Grad-CAM++ and EigenCAM over pytorch-grad-cam, context-managed so hooks are released.

    with CamExplainer(model, preset_target_layers(trunk, "resnet"), method="gradcam") as cam:
        heatmaps = cam(inputs, target_index=3)        # (N, H, W) in [0, 1]

For a TSN-style video model fed one clip as ``(1, T*C, H, W)`` whose trunk sees ``T`` frames, the
target layer's activations have ``T`` rows, so ``heatmaps`` has one map per sampled frame: the
explanation is batched over frames by construction.  (Feed 4-D input: pytorch-grad-cam treats 5-D
input as a 3-D volume.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from pytorch_grad_cam import EigenCAM, GradCAM, GradCAMPlusPlus

from shared_utils.cli import CAM_METHOD_NAMES

CAM_METHODS = dict(zip(CAM_METHOD_NAMES, (GradCAM, GradCAMPlusPlus, EigenCAM), strict=True))


class _LogitTarget:
    """Score to explain: the raw logit of one class (softmax classification), or its sigmoid
    (multilabel; same maps up to a per-sample positive factor that normalisation removes)."""

    def __init__(self, index: int, multilabel: bool):
        self.index, self.multilabel = index, multilabel

    def __call__(self, output: torch.Tensor) -> torch.Tensor:
        score = output[..., self.index]
        return torch.sigmoid(score) if self.multilabel else score


def preset_target_layers(trunk: torch.nn.Module, preset: str) -> list[torch.nn.Module]:
    """The usual Grad-CAM layer for a backbone: its last convolutional block.

    resnet: ``layer4[-1]``; mobilenet_v2: ``features[-1]``.
    """
    if preset == "resnet" and hasattr(trunk, "layer4"):
        return [trunk.layer4[-1]]
    if preset == "mobilenet_v2" and hasattr(trunk, "features"):
        return [trunk.features[-1]]
    raise ValueError(f"no Grad-CAM target-layer preset {preset!r} for {type(trunk).__name__}; "
                     "use resnet or mobilenet_v2, or pass the layers yourself")


class CamExplainer:
    """A class-activation-map explainer whose hooks live only inside a ``with`` block."""

    def __init__(
        self,
        model: torch.nn.Module,
        target_layers: Sequence[torch.nn.Module],
        method: str = "gradcam",
        reshape_transform: Callable | None = None,
    ):
        if method not in CAM_METHODS:
            raise ValueError(f"unknown CAM method {method!r}; choose from {', '.join(CAM_METHODS)}")
        self.model, self.target_layers, self.method = model, list(target_layers), method
        self.reshape_transform = reshape_transform
        self._cam = None

    def __enter__(self) -> CamExplainer:
        self._was_training = self.model.training
        self.model.eval()
        self._cam = CAM_METHODS[self.method](
            model=self.model, target_layers=self.target_layers, reshape_transform=self.reshape_transform
        )
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        # Release the hooks ourselves and never swallow an exception (pytorch-grad-cam's own
        # __exit__ prints and suppresses IndexError).
        if self._cam is not None:
            self._cam.activations_and_grads.release()
            self._cam = None
        self.model.train(self._was_training)

    def __call__(self, inputs: torch.Tensor, target_index: int | Sequence[int], multilabel: bool = False) -> np.ndarray:
        """Maps for ``inputs`` (N, C, H, W): one target per output row (an int applies to all)."""
        if self._cam is None:
            raise RuntimeError("use CamExplainer inside a `with` block so its hooks are released")
        with torch.enable_grad():
            outputs_rows = inputs.shape[0]
            indices = [target_index] * outputs_rows if isinstance(target_index, int) else list(target_index)
            targets = [_LogitTarget(int(i), multilabel) for i in indices]
            maps = self._cam(input_tensor=inputs, targets=targets)
        return np.clip(np.asarray(maps, dtype=np.float32), 0.0, 1.0)
