"""FCNEL networks: FCN-32s (AlexNet as in the paper, or ResNet), FCN-8s + ResNet (the re-implementation),
the label-conditioned EmoFCNEL, and the map-to-emotion classifier.

All map predictors output one channel at the input's resolution: the stride-32 (or fused stride-8)
score map is upsampled bilinearly to the input size, which is what FCN's fixed bilinear
deconvolution plus crop computes, for any input size.  Outputs are unbounded regression values
trained with a Euclidean loss against maps in [0, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from emotionroi_ex import EMOTIONS
from shared_utils.checkpoint import load_pretrained_weights

BACKBONES = ("alexnet", "resnet18", "resnet34", "resnet50")
ARCHS = ("fcn32s", "fcn8s")


# --------------------------------------------------------------------------- backbones
def _torchvision_model(name: str, pretrained: str | None) -> nn.Module:
    """A torchvision backbone, random or from a local ImageNet state_dict (nothing is ever downloaded)."""
    if name not in BACKBONES:
        raise SystemExit(f"error: unknown backbone {name!r}; choose from {', '.join(BACKBONES)}")
    net = getattr(torchvision.models, name)(weights=None)
    if pretrained:
        load_pretrained_weights(net, pretrained, f"--pretrained ({name} ImageNet weights)")
    return net


def _widen_first_conv(conv: nn.Conv2d, in_channels: int, pretrained: bool) -> nn.Conv2d:
    """Same conv for ``in_channels`` inputs: RGB filters kept; with pretrained weights the extra
    channels start at zero so the net initially behaves as the ImageNet one (randomly initialised
    otherwise); a 1-channel input gets the RGB filters summed."""
    if in_channels == conv.in_channels:
        return conv
    new = nn.Conv2d(in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                    bias=conv.bias is not None)
    with torch.no_grad():
        if in_channels == 1:
            new.weight.copy_(conv.weight.sum(dim=1, keepdim=True))
        else:
            if pretrained:
                new.weight[:, conv.in_channels :] = 0
            new.weight[:, : conv.in_channels] = conv.weight
        if conv.bias is not None:
            new.bias.copy_(conv.bias)
    return new


# --------------------------------------------------------------------------- backbones
class AlexNetTrunk(nn.Module):
    """AlexNet features + fc6/fc7 as convolutions (FCN-AlexNet); output stride 32, 4096 channels."""

    def __init__(self, pretrained: str | None = None, in_channels: int = 3):
        super().__init__()
        net = _torchvision_model("alexnet", pretrained)
        self.features = net.features
        self.features[0] = _widen_first_conv(self.features[0], in_channels, bool(pretrained))
        # padding 2/3 keeps the size, so small inputs stay valid (FCN pads the input by 100 pixels instead)
        self.fc6 = nn.Conv2d(256, 4096, 6)
        self.fc7 = nn.Conv2d(4096, 4096, 1)
        with torch.no_grad():  # the classifier's Linear layers are the same weights as these convs
            self.fc6.weight.copy_(net.classifier[1].weight.view(4096, 256, 6, 6))
            self.fc6.bias.copy_(net.classifier[1].bias)
            self.fc7.weight.copy_(net.classifier[4].weight.view(4096, 4096, 1, 1))
            self.fc7.bias.copy_(net.classifier[4].bias)
        self.head = nn.Sequential(nn.ZeroPad2d((2, 3, 2, 3)), self.fc6, nn.ReLU(inplace=True), nn.Dropout2d(0.5),
                                  self.fc7, nn.ReLU(inplace=True), nn.Dropout2d(0.5))
        self.out_channels = {"c5": 4096}
        self.min_input = 63  # smaller inputs vanish in the third max-pool

    def forward(self, x):
        return {"c5": self.head(self.features(x))}


class ResNetTrunk(nn.Module):
    """ResNet stages; returns the stride-8, -16 and -32 feature maps (c3, c4, c5)."""

    def __init__(self, name: str = "resnet50", pretrained: str | None = None, in_channels: int = 3):
        super().__init__()
        net = _torchvision_model(name, pretrained)
        net.conv1 = _widen_first_conv(net.conv1, in_channels, bool(pretrained))
        self.stem = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool)
        self.layer1, self.layer2, self.layer3, self.layer4 = net.layer1, net.layer2, net.layer3, net.layer4
        width = net.fc.in_features  # 512 for resnet18/34, 2048 for resnet50
        self.out_channels = {"c3": width // 4, "c4": width // 2, "c5": width}
        self.min_input = 1

    def forward(self, x):
        c3 = self.layer2(self.layer1(self.stem(x)))
        c4 = self.layer3(c3)
        return {"c3": c3, "c4": c4, "c5": self.layer4(c4)}


def build_trunk(backbone: str, pretrained: str | None = None, in_channels: int = 3) -> nn.Module:
    if backbone == "alexnet":
        return AlexNetTrunk(pretrained, in_channels)
    if backbone not in BACKBONES:
        raise SystemExit(f"error: unknown backbone {backbone!r}; choose from {', '.join(BACKBONES)}")
    return ResNetTrunk(backbone, pretrained, in_channels)


def _score(in_channels: int) -> nn.Conv2d:
    conv = nn.Conv2d(in_channels, 1, 1)
    nn.init.zeros_(conv.weight)  # as in FCN: score layers start at zero
    nn.init.zeros_(conv.bias)
    return conv


# --------------------------------------------------------------------------- map predictors
class FCNEL(nn.Module):
    """Emotion stimuli map predictor.

    ``fcn32s``: score the stride-32 features, upsample to the input size (the paper's network).
    ``fcn8s``: fuse stride-32, -16 and -8 scores before upsampling (the re-implementation; ResNet only).
    """

    def __init__(self, arch: str = "fcn32s", backbone: str = "alexnet", pretrained: str | None = None,
                 in_channels: int = 3):
        super().__init__()
        if arch not in ARCHS:
            raise SystemExit(f"error: unknown --arch {arch!r}; choose from {', '.join(ARCHS)}")
        if arch == "fcn8s" and backbone == "alexnet":
            raise SystemExit("error: --arch fcn8s needs a ResNet backbone (it fuses stride-8/16 ResNet stages)")
        self.arch, self.backbone = arch, backbone
        self.trunk = build_trunk(backbone, pretrained, in_channels)
        channels = self.trunk.out_channels
        self.score32 = _score(channels["c5"])
        if arch == "fcn8s":
            self.score16, self.score8 = _score(channels["c4"]), _score(channels["c3"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        # pad tiny inputs at the bottom/right (zeros = the mean colour after normalisation), crop after
        pad_h, pad_w = max(0, self.trunk.min_input - height), max(0, self.trunk.min_input - width)
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h))
        size = x.shape[-2:]
        feats = self.trunk(x)
        score = self.score32(feats["c5"])
        if self.arch == "fcn8s":
            score = F.interpolate(score, size=feats["c4"].shape[-2:], mode="bilinear", align_corners=False)
            score = score + self.score16(feats["c4"])
            score = F.interpolate(score, size=feats["c3"].shape[-2:], mode="bilinear", align_corners=False)
            score = score + self.score8(feats["c3"])
        return F.interpolate(score, size=size, mode="bilinear", align_corners=False)[..., :height, :width]


class EmoFCNEL(nn.Module):
    """FCNEL conditioned on an emotion: a learned label embedding, tiled over the image, is
    concatenated to the RGB input (3 + embed_dim channels into the first convolution)."""

    def __init__(self, arch: str = "fcn8s", backbone: str = "resnet50", pretrained: str | None = None,
                 embed_dim: int = 8, num_emotions: int = len(EMOTIONS)):
        super().__init__()
        self.embedding = nn.Embedding(num_emotions, embed_dim)
        nn.init.normal_(self.embedding.weight, std=1.0)  # same scale as normalised RGB
        self.fcn = FCNEL(arch, backbone, pretrained, in_channels=3 + embed_dim)

    def forward(self, x: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        emb = self.embedding(label)[:, :, None, None].expand(-1, -1, x.shape[-2], x.shape[-1])
        return self.fcn(torch.cat([x, emb.to(x.dtype)], dim=1))


class MapClassifier(nn.Module):
    """ResNet classifying the emotion from the ground-truth stimuli map alone (1 input channel)."""

    def __init__(self, backbone: str = "resnet50", pretrained: str | None = None, num_classes: int = len(EMOTIONS)):
        super().__init__()
        if backbone == "alexnet" or backbone not in BACKBONES:
            raise SystemExit(f"error: the map classifier needs a ResNet backbone, got {backbone!r}")
        net = _torchvision_model(backbone, pretrained)
        net.conv1 = _widen_first_conv(net.conv1, 1, bool(pretrained))
        net.fc = nn.Linear(net.fc.in_features, num_classes)
        self.net = net

    def forward(self, stimuli_map: torch.Tensor) -> torch.Tensor:
        return self.net(stimuli_map)


def euclidean_loss(pred: torch.Tensor, target: torch.Tensor, reduction: str = "caffe") -> torch.Tensor:
    """``caffe``: Caffe's EuclideanLoss, sum of squared errors / (2 * batch) — what the paper's lr 1e-8 is
    tuned for; ``mean``: mean squared error per pixel (the re-implementation's scale, lr 1e-2)."""
    if reduction == "caffe":
        return (pred.float() - target.float()).pow(2).sum() / (2 * pred.shape[0])
    if reduction == "mean":
        return F.mse_loss(pred.float(), target.float())
    raise ValueError(f"unknown reduction {reduction!r}")
