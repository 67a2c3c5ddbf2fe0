"""The two-stream EMOTIC model: a body trunk and a context (whole image) trunk, fused, with a
26-way discrete head and a 3-way continuous (valence, arousal, dominance) head.

As in the paper and the port: each trunk is a ResNet without its classifier (global-average-pooled
features), the features are concatenated, fused by ``Linear -> BatchNorm -> ReLU -> Dropout`` to 256
units, and two linear heads read the fused vector. The port initialises the context trunk from
Places365 and the body trunk from ImageNet (``prepare_models.py``): ``--context_weights places365`` /
``--body_weights imagenet`` resolve those files through the weights cache (``shared_utils.weights``;
nothing is downloaded), a path names a local file, ``none`` starts from random weights.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torchvision import models

from emotic_context.dataset import CATEGORIES
from shared_utils import weights as registry
from shared_utils.checkpoint import load_checkpoint, load_pretrained_weights
from shared_utils.runs import BEST_CHECKPOINT

TRUNKS = {"resnet18": (models.resnet18, 512), "resnet50": (models.resnet50, 2048)}


def resolve_weights(weights: str | Path | None, arch: str, option: str) -> Path | None:
    """``places365`` / ``imagenet`` -> the port's file for ``arch`` from the weights cache; ``none`` / None ->
    random init; anything else is a path."""
    if str(weights) in ("places365", "imagenet"):
        return registry.fetch(f"{weights}_{arch}", f"{option} {weights}", option)
    return registry.local_file(weights, option)


def build_trunk(arch: str, weights: str | Path | None = None, what: str = "trunk") -> tuple[nn.Module, int]:
    """A ResNet whose forward returns pooled features; ``(trunk, feature_dim)``. ``weights``: a resolved
    file (torchvision's or the Places365 release, ``module.`` prefixes and its 365-way fc ignored)."""
    if arch not in TRUNKS:
        raise SystemExit(f"error: unknown trunk {arch!r}; choose from {', '.join(TRUNKS)}")
    constructor, dim = TRUNKS[arch]
    trunk = constructor(weights=None)
    trunk.fc = nn.Identity()
    if weights:
        load_pretrained_weights(trunk, weights, f"{what} weights")
    return trunk, dim


class EmoticModel(nn.Module):
    def __init__(self, context_model: str = "resnet18", body_model: str = "resnet18", context_weights=None,
                 body_weights=None, fusion_dim: int = 256, dropout: float = 0.5,
                 num_categories: int = len(CATEGORIES)):
        super().__init__()
        self.context_trunk, context_dim = build_trunk(context_model, context_weights, "context")
        self.body_trunk, body_dim = build_trunk(body_model, body_weights, "body")
        self.fuse = nn.Sequential(nn.Linear(context_dim + body_dim, fusion_dim), nn.BatchNorm1d(fusion_dim),
                                  nn.ReLU(inplace=True), nn.Dropout(dropout))
        self.cat_head = nn.Linear(fusion_dim, num_categories)
        self.cont_head = nn.Linear(fusion_dim, 3)

    def forward(self, context: torch.Tensor, body: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(category scores (B, 26), VAD / 10 (B, 3))``; scores are unbounded, as the port trains them."""
        fused = self.fuse(torch.cat([self.context_trunk(context), self.body_trunk(body)], dim=1))
        return self.cat_head(fused), self.cont_head(fused)


def model_from_checkpoint(checkpoint: str | Path | None, run_dir: Path) -> tuple[EmoticModel, dict, Path]:
    """The model a checkpoint holds (default: the run's best), built from the architecture record saved with it."""
    path = Path(checkpoint) if checkpoint else run_dir / BEST_CHECKPOINT
    state = load_checkpoint(path)
    arch = (state.get("extra") or {}).get("arch")
    if arch is None:
        raise SystemExit(f"error: {path}: not an emotic_context checkpoint (no architecture record)")
    model = EmoticModel(arch["context_model"], arch["body_model"])
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as exc:
        raise SystemExit(f"error: {path}: does not fit the model: {str(exc).splitlines()[0]}") from None
    return model, arch, path
