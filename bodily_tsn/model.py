"""TSN over ResNet-50 / MobileNetV2 trunks, with TSM temporal shift, partial BatchNorm and late
face + body fusion.

Shapes: a batch is ``(B, S, T, 3, H, W)``: B clips, S streams (1, or 2 for face + body fusion),
T segments. Each stream's tower scores every frame with the trunk, applies dropout and a linear
head, and averages the T frame scores (TSN's average consensus). Fusion averages the streams'
logits, as the original does, and trains each stream with its own BCE loss.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
import torch.nn as nn
import torchvision
from torchvision.models.mobilenetv2 import InvertedResidual
from torchvision.models.resnet import Bottleneck

from bodily_tsn.dataset import LABELS, stream_names
from bodily_tsn.options import ARCHS, SHIFT_PLACES
from shared_utils import weights
from shared_utils.checkpoint import load_state_dict_checked, read_state_dict


# --------------------------------------------------------------------------- temporal shift (TSM)
def temporal_shift(x: torch.Tensor, num_segments: int, fold_div: int) -> torch.Tensor:
    """Shift 1/fold_div of the channels one segment back in time, another 1/fold_div one segment
    forward, and leave the rest; ``x`` is ``(B*T, C, H, W)``. Vacated positions are zero."""
    nt, channels, height, width = x.shape
    x = x.view(nt // num_segments, num_segments, channels, height, width)
    fold = channels // fold_div
    out = torch.zeros_like(x)
    out[:, :-1, :fold] = x[:, 1:, :fold]  # frame t sees frame t+1
    out[:, 1:, fold:2 * fold] = x[:, :-1, fold:2 * fold]  # frame t sees frame t-1
    out[:, :, 2 * fold:] = x[:, :, 2 * fold:]
    return out.view(nt, channels, height, width)


class TemporalShift(nn.Module):
    """Runs ``net`` on the temporally shifted input."""

    def __init__(self, net: nn.Module, num_segments: int, fold_div: int):
        super().__init__()
        self.net, self.num_segments, self.fold_div = net, num_segments, fold_div

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(temporal_shift(x, self.num_segments, self.fold_div))

    def extra_repr(self) -> str:
        return f"num_segments={self.num_segments}, fold_div={self.fold_div}"


def add_temporal_shift(trunk: nn.Module, arch: str, num_segments: int, fold_div: int, place: str) -> int:
    """Insert temporal shifts into every residual block of ``trunk``; returns how many.

    ``blockres`` shifts only the residual branch (before its first conv), so the identity path keeps
    the frame's own features; ``block`` shifts the block input itself (identity path included).
    Both trunks get shifts: the original silently skipped MobileNetV2.
    """
    if place not in SHIFT_PLACES:
        raise ValueError(f"shift place must be one of {SHIFT_PLACES}, got {place!r}")
    count = 0
    if arch == "resnet50":
        for stage in (trunk.layer1, trunk.layer2, trunk.layer3, trunk.layer4):
            for i, block in enumerate(stage):
                assert isinstance(block, Bottleneck)
                if place == "blockres":
                    block.conv1 = TemporalShift(block.conv1, num_segments, fold_div)
                else:
                    stage[i] = TemporalShift(block, num_segments, fold_div)
                count += 1
    elif arch == "mobilenet_v2":
        for i, block in enumerate(trunk.features):
            if isinstance(block, InvertedResidual) and block.use_res_connect:
                if place == "blockres":
                    block.conv[0] = TemporalShift(block.conv[0], num_segments, fold_div)
                else:
                    trunk.features[i] = TemporalShift(block, num_segments, fold_div)
                count += 1
    else:
        raise ValueError(f"unknown arch {arch!r}")
    return count


# --------------------------------------------------------------------------- trunks and their weights
# The original saves its AffectNet trunks (EmoReact/models.py:115-175) as {"state_dict": ...} with keys
# "features." + those of nn.Sequential(*list(resnet50.children())[:-1]) (TSM files: each shifted conv1 as
# "conv1.net."), beside heads it drops; MobileNetV2 as "module.features." + those of
# nn.Sequential(mobilenet_v2.features, AdaptiveAvgPool2d), head "module.classifier.0.".
_RESNET_CHILDREN = {"0": "conv1", "1": "bn1", "4": "layer1", "5": "layer2", "6": "layer3", "7": "layer4"}
_ORIGINAL_RESNET_HEADS = ("classifier.0.", "categorical_layer.", "continuous_layer.")


def to_torchvision_keys(state: dict[str, torch.Tensor], arch: str) -> tuple[dict[str, torch.Tensor], str]:
    """A weights file's state_dict (``module.`` already stripped) in torchvision's key names, and its layout."""
    state = {re.sub(r"\.net(?=\.)", "", k): v for k, v in state.items()}  # TSM's wrapped convs
    if arch == "resnet50" and any(k.startswith("features.") for k in state):
        out = {}
        for key, value in state.items():
            if key.startswith(_ORIGINAL_RESNET_HEADS):
                continue
            index, _, rest = key.removeprefix("features.").partition(".")
            name = _RESNET_CHILDREN.get(index) if key.startswith("features.") else None
            out[f"{name}.{rest}" if name else key] = value
        return out, "the original's AffectNet ResNet-50"
    if arch == "mobilenet_v2" and "features.0.0.0.weight" in state:
        out = {}
        for key, value in state.items():
            if key.startswith("classifier.0."):
                continue
            out[f"features.{key.removeprefix('features.0.')}" if key.startswith("features.0.") else key] = value
        return out, "the original's AffectNet MobileNetV2"
    return state, "torchvision"


def resolve_pretrained(pretrained: str | Path | None, arch: str, shift: bool) -> Path | None:
    """``none`` -> random init; ``affectnet`` -> the original's file for this arch (TSM's with --shift),
    through the weights registry; another registry name; or a path."""
    if str(pretrained) == "affectnet":
        name = {"mobilenet_v2": "affectnet_mobilenet_v2"}.get(arch, "affectnet_tsm_resnet50" if shift
                                                              else "affectnet_resnet50")
        return weights.fetch(name, "--pretrained affectnet", "--pretrained")
    return weights.local_file(pretrained, "--pretrained")


def build_trunk(arch: str, pretrained: str | Path | None = None) -> tuple[nn.Module, int]:
    """An ImageNet-architecture trunk whose forward gives pooled ``(N, C)`` features, and C.

    ``pretrained``: a local file (never downloaded) in torchvision's layout or in one of the original's
    three AffectNet layouts; keys are converted, values checked by shape, anything else refused naming
    the first missing or unexpected key.
    """
    if arch == "resnet50":
        trunk = torchvision.models.resnet50(weights=None)
        dim, head = trunk.fc.in_features, "fc"
    elif arch == "mobilenet_v2":
        trunk = torchvision.models.mobilenet_v2(weights=None)
        dim, head = trunk.classifier[-1].in_features, "classifier"
    else:
        raise SystemExit(f"error: unknown --arch {arch!r}; choose from {', '.join(ARCHS)}")
    if pretrained:
        what = "--pretrained"
        state, layout = to_torchvision_keys(read_state_dict(pretrained, what), arch)
        state = {k: v for k, v in state.items() if not k.startswith(head + ".")}
        load_state_dict_checked(trunk, state, f"{what} ({layout} layout)", pretrained, keep_init=(head + ".",),
                                unexpected_ok=False)
    setattr(trunk, head, nn.Identity())
    return trunk, dim


# --------------------------------------------------------------------------- TSN
class TSNTower(nn.Module):
    """Trunk -> dropout -> linear head per frame -> average over the T segments."""

    def __init__(self, arch: str, num_segments: int, num_classes: int = len(LABELS), dropout: float = 0.0,
                 shift: bool = False, shift_div: int = 8, shift_place: str = "blockres",
                 valence: bool = False, pretrained: str | Path | None = None, head_init: str = "default"):
        super().__init__()
        self.arch, self.num_segments, self.num_classes = arch, num_segments, num_classes
        self.trunk, dim = build_trunk(arch, pretrained)
        self.num_shifts = add_temporal_shift(self.trunk, arch, num_segments, shift_div, shift_place) if shift else 0
        # The original's TSN builds no dropout for these trunks (EmoReact/models.py:89-98): 0 by default.
        self.dropout = nn.Dropout(p=dropout)
        self.head = nn.Linear(dim, num_classes + (1 if valence else 0))
        if head_init == "normal":  # TSN's usual N(0, 0.001); the original keeps PyTorch's default (models.py:100-104)
            nn.init.normal_(self.head.weight, 0, 0.001)
            nn.init.zeros_(self.head.bias)
        elif head_init != "default":
            raise ValueError(f"head_init must be 'default' or 'normal', got {head_init!r}")
        self.valence = valence

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        """``(B, T, 3, H, W)`` -> ``(B, num_classes [+1 valence])`` averaged over segments."""
        batch, segments = clips.shape[:2]
        if segments != self.num_segments:
            raise ValueError(f"model built for {self.num_segments} segments, got {segments}")
        features = self.trunk(clips.flatten(0, 1))
        scores = self.head(self.dropout(features))
        return scores.view(batch, segments, -1).mean(dim=1)


class BodilyTSN(nn.Module):
    """One TSN tower per stream (or one shared by face and body), late fusion by averaging logits."""

    def __init__(self, input_kind: str = "face", arch: str = "resnet50", num_segments: int = 5,
                 dropout: float = 0.0, partial_bn: bool = True, shift: bool = False, shift_div: int = 8,
                 shift_place: str = "blockres", valence: bool = False, shared_trunk: bool = True,
                 pretrained: str | Path | None = None, head_init: str = "default"):
        super().__init__()
        self.streams = stream_names(input_kind)
        self.shared_trunk = shared_trunk or len(self.streams) == 1
        names = ["shared"] if self.shared_trunk else self.streams
        self.towers = nn.ModuleDict({
            name: TSNTower(arch, num_segments, len(LABELS), dropout, shift, shift_div, shift_place, valence,
                           pretrained, head_init)
            for name in names
        })
        self.partial_bn, self.valence, self.num_segments = partial_bn, valence, num_segments
        if partial_bn:
            self._freeze_partial_bn()

    def tower(self, stream: str) -> TSNTower:
        return self.towers["shared"] if self.shared_trunk else self.towers[stream]

    def forward(self, clips: torch.Tensor) -> dict[str, torch.Tensor]:
        """``(B, S, T, 3, H, W)`` -> ``{"logits": (B, 8), "stream_logits": (B, S, 8)[, "valence": (B,)]}``."""
        batch, num_streams = clips.shape[:2]
        if num_streams != len(self.streams):
            raise ValueError(f"model expects {len(self.streams)} stream(s) {self.streams}, got {num_streams}")
        # One trunk call per stream, as the original (trainer/trainer.py:90-100: the body clip, then the face clip):
        # the BatchNorm layers that train (partial BN leaves the first) normalise each stream by its own batch
        # statistics and update their running statistics body first, then face. One call over both streams would
        # mix the two streams' statistics, and was slower on CPU (bigger buffers, more page faults).
        call_order = sorted(range(num_streams), key=lambda s: self.streams[s] != "body")
        by_stream = {s: self.tower(self.streams[s])(clips[:, s]) for s in call_order}
        scores = torch.stack([by_stream[s] for s in range(num_streams)], dim=1)
        out = {"stream_logits": scores[..., : len(LABELS)], "logits": scores[..., : len(LABELS)].mean(dim=1)}
        if self.valence:
            out["valence"] = scores[..., len(LABELS)].mean(dim=1)
        return out

    # Partial BN (TSN): with ImageNet weights and small batches of correlated frames, only the first
    # BatchNorm of each trunk keeps learning; the others keep their statistics and affine params.
    def _partial_bn_layers(self):
        for tower in self.towers.values():
            bns = [m for m in tower.trunk.modules() if isinstance(m, nn.BatchNorm2d)]
            yield from bns[1:]

    def _freeze_partial_bn(self) -> None:
        for bn in self._partial_bn_layers():
            bn.weight.requires_grad_(False)
            bn.bias.requires_grad_(False)

    def train(self, mode: bool = True):
        super().train(mode)
        if mode and self.partial_bn:
            for bn in self._partial_bn_layers():
                bn.eval()
        return self


def build_model(args, pretrained: str | Path | None = None) -> BodilyTSN:
    """The run's model; ``pretrained`` is the resolved weights file (``resolve_pretrained``) or None."""
    return BodilyTSN(
        input_kind=args.input, arch=args.arch, num_segments=args.num_segments,
        dropout=args.dropout if getattr(args, "apply_dropout", False) else 0.0,
        partial_bn=not args.no_partialbn, shift=args.shift, shift_div=args.shift_div,
        shift_place=args.shift_place, valence=args.valence, shared_trunk=not args.separate_trunks,
        pretrained=pretrained, head_init=getattr(args, "head_init", "normal"),
    )
