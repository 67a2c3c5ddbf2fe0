"""The three networks the paper compares, built for 48x48 grayscale faces.

* ``cnn``: a VGG-style plain CNN, four stages of two 3x3 conv-BN-ReLU layers, each followed by 2x2 max-pooling;
* ``se_cnn``: the same CNN with a squeeze-and-excitation block (Hu et al., CVPR 2018) closing each stage;
* ``se_resnet18`` / ``se_resnet34``: ResNet basic blocks with an SE block before the residual addition.

No destructive stem: the first layer is a stride-1 3x3 conv and there is no max-pool, so the first stage sees the
full 48x48 (or cropped 44x44) face; stages 2-4 halve the resolution (44 -> 22 -> 11 -> 6).
``width`` is the first stage's channel count (64 in the standard nets); later stages double it.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from torchvision.ops import SqueezeExcitation

from fer_seresnet.options import ARCHS


def squeeze_excitation(channels: int, reduction: int = 16) -> SqueezeExcitation:
    """Channel gates from global average pooling through a bottleneck MLP (Hu et al., CVPR 2018): torchvision's
    block, with a bottleneck of ``max(channels // reduction, 4)`` (its ``fc1`` / ``fc2`` keys are those of the
    hand-written block it replaced, so earlier checkpoints load)."""
    return SqueezeExcitation(channels, max(channels // reduction, 4))


def conv_bn_relu(in_channels: int, out_channels: int) -> list[nn.Module]:
    return [nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False), nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True)]


class PlainStage(nn.Sequential):
    def __init__(self, in_channels: int, out_channels: int, se: bool, pool: bool):
        layers = conv_bn_relu(in_channels, out_channels) + conv_bn_relu(out_channels, out_channels)
        if se:
            layers.append(squeeze_excitation(out_channels))
        if pool:
            layers.append(nn.MaxPool2d(2, ceil_mode=True))
        super().__init__(*layers)


class SEBasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, se: bool = True):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.se = squeeze_excitation(out_channels) if se else nn.Identity()
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                                            nn.BatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.se(self.bn2(self.conv2(out)))
        return self.relu(out + identity)


class FERNet(nn.Module):
    """Stem (ResNets only) -> four stages -> global average pool -> dropout -> linear.

    ``stages`` is an ``nn.ModuleList`` so feature maps of each stage (``forward_stages``) and Grad-CAM target
    layers (``stages[-1]``) are addressable by name.
    """

    def __init__(self, arch: str = "se_resnet18", num_classes: int = 7, width: int = 64, in_channels: int = 1,
                 dropout: float = 0.3, zero_init_residual: bool = True):
        super().__init__()
        if arch not in ARCHS:
            raise SystemExit(f"error: unknown --arch {arch!r} (choose from {', '.join(ARCHS)})")
        self.arch = arch
        channels = [width, width * 2, width * 4, width * 8]
        if arch in ("cnn", "se_cnn"):
            self.stem = nn.Identity()
            previous = in_channels
            stages = []
            for i, c in enumerate(channels):
                # The last stage keeps its resolution: global pooling follows.
                stages.append(PlainStage(previous, c, se=arch == "se_cnn", pool=i < len(channels) - 1))
                previous = c
        else:
            depth = {"se_resnet18": [2, 2, 2, 2], "se_resnet34": [3, 4, 6, 3]}[arch]
            self.stem = nn.Sequential(*conv_bn_relu(in_channels, width))
            previous = width
            stages = []
            for i, (c, blocks) in enumerate(zip(channels, depth)):
                layers = []
                for b in range(blocks):
                    layers.append(SEBasicBlock(previous, c, stride=2 if (i > 0 and b == 0) else 1))
                    previous = c
                stages.append(nn.Sequential(*layers))
        self.stages = nn.ModuleList(stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(previous, num_classes)
        self._init_weights(zero_init_residual)

    def _init_weights(self, zero_init_residual: bool) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        # Zero-init the last BN of each residual branch: blocks start as identities (Goyal et al. 2017; torchvision's
        # ``zero_init_residual``); see the README, "Why the SE-ResNet starts slower".
        if not zero_init_residual:
            return
        for m in self.modules():
            if isinstance(m, SEBasicBlock):
                nn.init.zeros_(m.bn2.weight)

    def forward_stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        outputs = []
        for stage in self.stages:
            x = stage(x)
            outputs.append(x)
        return outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        return self.fc(self.dropout(torch.flatten(self.pool(x), 1)))


def build_model(arch: str, num_classes: int = 7, width: int = 64, dropout: float = 0.3,
                zero_init_residual: bool = True) -> FERNet:
    return FERNet(arch, num_classes=num_classes, width=width, dropout=dropout, zero_init_residual=zero_init_residual)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_flops(model: nn.Module, image_size: int = 44) -> int:
    """Forward FLOPs for one 1-channel ``image_size`` square image (a multiply-add counts as 2)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 1, image_size, image_size, device=device))
    model.train(was_training)
    return int(counter.get_total_flops())


def describe_model(model: nn.Module, image_size: int) -> str:
    return (f"{getattr(model, 'arch', type(model).__name__)}: {count_parameters(model) / 1e6:.2f} M parameters, "
            f"{count_flops(model, image_size) / 1e9:.3f} GFLOPs per {image_size}x{image_size} image")
