"""FCNEL networks: the paper's FCN-32s (AlexNet, or a ResNet trunk), the re-implementation's torchvision
``fcn_resnet50`` (Kahsolt/EmotionROI-ex), the label-conditioned EmoFCNEL, and the map-to-emotion classifier.

Every map predictor outputs one channel at the input's resolution and is trained to regress the ground
truth divided by 255 (unbounded outputs; the scorer clamps them to [0, 1]).

Weights files (``pretrained``) load as their authors saved them, converted by key layout:

- ``fcn_resnet50``: torchvision's COCO file (``fcn_resnet50_coco-1167a1af.pth``: its 21-class scorer is
  replaced by the zero-initialised one-channel scorer, its auxiliary head dropped), Kahsolt's own trained
  ``model-FCNEL.pth`` (same keys, one-channel scorer: loads whole) or an ImageNet ``resnet50`` file (backbone
  only);
- ``fcn32s``: torchvision's ImageNet ``alexnet`` / ``resnet*`` file for the trunk;
- EmoFCNEL: any file its base network takes (the first convolution's RGB filters are copied, the extra
  label channels keep their initialisation, as Kahsolt's ``train_EmoFCNEL.py`` does) or Kahsolt's trained
  ``model-EmoFCNEL.pth`` (keys ``base.*``, ``embd.weight``: loads whole);
- the map classifier: an ImageNet ``resnet*`` file (first convolution = mean of the RGB filters) or
  Kahsolt's trained ``model-RIO_clf.pth`` (loads whole).

Anything else is refused in one line naming the first key that does not fit.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torchvision.models.segmentation import fcn_resnet50
from torchvision.models.segmentation.fcn import FCN

from emotionroi_ex import EMOTIONS
from emotionroi_ex.options import ARCHS, BACKBONES, UPSAMPLE_MODES
from shared_utils.checkpoint import load_state_dict_checked, read_state_dict

DEFAULT_UPSAMPLE = {"fcn32s": "bilinear", "fcn_resnet50": "nearest-exact"}


def _fit_first_conv(weight: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """A file's first-conv filters (out, 3, k, k) fitted to a conv with another number of input channels:
    one channel takes the mean of the RGB filters (Kahsolt's ``train_RIO_clf.py``), more channels keep
    their own initialisation beyond the RGB ones (his ``train_EmoFCNEL.py``)."""
    if weight.shape == target.shape or weight.ndim != 4 or weight.shape[1] != 3 or weight.shape[0] != target.shape[0]:
        return weight
    if target.shape[1] == 1:
        return weight.mean(dim=1, keepdim=True)
    fitted = target.detach().clone()
    fitted[:, :3] = weight
    return fitted


def _widen_first_conv(conv: nn.Conv2d, in_channels: int) -> nn.Conv2d:
    """The same convolution for ``in_channels`` inputs, with its filters fitted by :func:`_fit_first_conv`."""
    if in_channels == conv.in_channels:
        return conv
    new = nn.Conv2d(in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                    dilation=conv.dilation, groups=conv.groups, bias=conv.bias is not None,
                    padding_mode=conv.padding_mode)
    with torch.no_grad():
        new.weight.copy_(_fit_first_conv(conv.weight, new.weight))
        if conv.bias is not None:
            new.bias.copy_(conv.bias)
    return new


def _load_first_conv_fitted(module: nn.Module, state: dict, what: str, path, conv_key: str,
                            keep_init: tuple[str, ...] = ()) -> None:
    own = module.state_dict()
    if conv_key in state and conv_key in own:
        state = {**state, conv_key: _fit_first_conv(state[conv_key], own[conv_key])}
    load_state_dict_checked(module, state, what, path, keep_init=keep_init)


# --------------------------------------------------------------------------- the paper's FCN-32s
def _torchvision_classifier(name: str, pretrained: str | None) -> nn.Module:
    """A torchvision ImageNet classifier, random or from a local state_dict (nothing is ever downloaded)."""
    if name not in BACKBONES:
        raise SystemExit(f"error: unknown backbone {name!r}; choose from {', '.join(BACKBONES)}")
    net = getattr(torchvision.models, name)(weights=None)
    if pretrained:
        load_state_dict_checked(net, read_state_dict(pretrained, f"--pretrained ({name} ImageNet weights)"),
                                f"--pretrained ({name} ImageNet weights)", pretrained)
    return net


class AlexNetTrunk(nn.Module):
    """AlexNet features + fc6/fc7 as convolutions (FCN-AlexNet); output stride 32, 4096 channels.

    fc6/fc7 are followed by Caffe's element-wise Dropout (``nn.Dropout``), as in FCN-AlexNet."""

    def __init__(self, pretrained: str | None = None, in_channels: int = 3):
        super().__init__()
        net = _torchvision_classifier("alexnet", pretrained)
        self.features = net.features
        self.features[0] = _widen_first_conv(self.features[0], in_channels)
        # padding 2/3 keeps the size, so small inputs stay valid (FCN pads the input by 100 pixels instead)
        self.fc6 = nn.Conv2d(256, 4096, 6)
        self.fc7 = nn.Conv2d(4096, 4096, 1)
        with torch.no_grad():  # the classifier's Linear layers are the same weights as these convs
            self.fc6.weight.copy_(net.classifier[1].weight.view(4096, 256, 6, 6))
            self.fc6.bias.copy_(net.classifier[1].bias)
            self.fc7.weight.copy_(net.classifier[4].weight.view(4096, 4096, 1, 1))
            self.fc7.bias.copy_(net.classifier[4].bias)
        self.head = nn.Sequential(nn.ZeroPad2d((2, 3, 2, 3)), self.fc6, nn.ReLU(inplace=True), nn.Dropout(0.5),
                                  self.fc7, nn.ReLU(inplace=True), nn.Dropout(0.5))
        self.out_channels = 4096
        self.min_input = 63  # smaller inputs vanish in the third max-pool

    def forward(self, x):
        return self.head(self.features(x))


class ResNetTrunk(nn.Module):
    """ResNet stages up to the stride-32 features."""

    def __init__(self, name: str = "resnet50", pretrained: str | None = None, in_channels: int = 3):
        super().__init__()
        net = _torchvision_classifier(name, pretrained)
        net.conv1 = _widen_first_conv(net.conv1, in_channels)
        self.stem = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool)
        self.layer1, self.layer2, self.layer3, self.layer4 = net.layer1, net.layer2, net.layer3, net.layer4
        self.out_channels = net.fc.in_features  # 512 for resnet18/34, 2048 for resnet50
        self.min_input = 1

    def forward(self, x):
        return self.layer4(self.layer3(self.layer2(self.layer1(self.stem(x)))))


def _zero_scorer(in_channels: int) -> nn.Conv2d:
    conv = nn.Conv2d(in_channels, 1, 1)
    nn.init.zeros_(conv.weight)  # as in FCN (and Kahsolt's get_model): the scorer starts at zero
    nn.init.zeros_(conv.bias)
    return conv


class FCN32s(nn.Module):
    """The paper's FCNEL: the stride-32 features scored to one channel and upsampled to the input size
    (bilinear, what FCN's fixed bilinear deconvolution plus crop computes)."""

    def __init__(self, backbone: str = "alexnet", pretrained: str | None = None, in_channels: int = 3,
                 upsample: str = "bilinear"):
        super().__init__()
        if backbone not in BACKBONES:
            raise SystemExit(f"error: unknown backbone {backbone!r}; choose from {', '.join(BACKBONES)}")
        self.trunk = AlexNetTrunk(pretrained, in_channels) if backbone == "alexnet" else \
            ResNetTrunk(backbone, pretrained, in_channels)
        self.score32 = _zero_scorer(self.trunk.out_channels)
        self.upsample = upsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        # pad tiny inputs at the bottom/right (zeros = the mean colour after normalisation), crop after
        pad_h, pad_w = max(0, self.trunk.min_input - height), max(0, self.trunk.min_input - width)
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h))
        score = self.score32(self.trunk(x))
        return _upsample(score, x.shape[-2:], self.upsample)[..., :height, :width]


def _upsample(score: torch.Tensor, size, mode: str) -> torch.Tensor:
    if mode == "bilinear":
        return F.interpolate(score, size=size, mode="bilinear", align_corners=False)
    return F.interpolate(score, size=size, mode=mode)


# --------------------------------------------------------------------------- Kahsolt's fcn_resnet50
class FCNResNet50(FCN):
    """Kahsolt's FCNEL (``train_FCNEL.py``, ``get_model`` / ``FCN_forward_hijack``): torchvision's
    ``fcn_resnet50`` (ResNet-50 dilated to output stride 8, FCNHead 2048 -> 512 -> 1) whose last conv is a
    zero-initialised one-channel scorer, upsampled x8 with ``nearest-exact`` (``bilinear`` by option).

    His model keeps the COCO file's auxiliary head, computes it in ``forward`` and never uses it (no loss,
    no output): it is left out here, which changes no output or gradient; its keys are ignored on loading.
    """

    def __init__(self, pretrained: str | None = None, in_channels: int = 3, upsample: str = "nearest-exact"):
        net = fcn_resnet50(weights=None, weights_backbone=None, num_classes=21, aux_loss=False)
        super().__init__(net.backbone, net.classifier, None)
        self.classifier[-1] = _zero_scorer(self.classifier[-1].in_channels)
        self.backbone.conv1 = _widen_first_conv(self.backbone.conv1, in_channels)
        self.upsample = upsample
        if pretrained:
            self.load_weights_file(pretrained)

    def load_weights_file(self, path) -> None:
        what = "--pretrained (fcn_resnet50 or resnet50 weights)"
        state = read_state_dict(path, what)
        if any(k.startswith("backbone.") for k in state):  # torchvision's FCN file, or Kahsolt's trained model
            state = {k: v for k, v in state.items() if not k.startswith("aux_classifier.")}
            keep_init = ("classifier.4.",)  # the COCO file's 21-class scorer does not fit: keep the zero scorer
        elif "conv1.weight" in state and any(k.startswith("layer4.") for k in state):  # ImageNet resnet50
            state = {f"backbone.{k}": v for k, v in state.items() if not k.startswith("fc.")}
            keep_init = ("classifier.",)
        else:
            keep_init = ()
        _load_first_conv_fitted(self, state, what, path, "backbone.conv1.weight", keep_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        score = self.classifier(self.backbone(x)["out"])
        return _upsample(score, x.shape[-2:], self.upsample)


def build_fcnel(arch: str = "fcn32s", backbone: str = "alexnet", pretrained: str | None = None,
                in_channels: int = 3, upsample: str | None = None) -> nn.Module:
    """The map network of ``--arch``: ``fcn32s`` (the paper; ``backbone`` picks the trunk) or
    ``fcn_resnet50`` (Kahsolt's; ``backbone`` must be resnet50)."""
    if arch not in ARCHS:
        raise SystemExit(f"error: unknown --arch {arch!r}; choose from {', '.join(ARCHS)}")
    upsample = upsample or DEFAULT_UPSAMPLE[arch]
    if upsample not in UPSAMPLE_MODES:
        raise SystemExit(f"error: unknown --upsample {upsample!r}; choose from {', '.join(UPSAMPLE_MODES)}")
    if arch == "fcn_resnet50":
        if backbone != "resnet50":
            raise SystemExit(f"error: --arch fcn_resnet50 is torchvision's FCN on a dilated ResNet-50; "
                             f"--backbone {backbone} needs --arch fcn32s")
        return FCNResNet50(pretrained, in_channels, upsample)
    return FCN32s(backbone, pretrained, in_channels, upsample)


class EmoFCNEL(nn.Module):
    """FCNEL conditioned on an emotion (Kahsolt's ``train_EmoFCNEL.py``): a learned label embedding
    (``embd``, size 6 there) tiled over the image and concatenated to the RGB input of the base network
    (``base``), whose first convolution takes 3 + embed_dim channels.  Attribute names follow his, so his
    trained ``model-EmoFCNEL.pth`` loads as saved."""

    def __init__(self, arch: str = "fcn_resnet50", backbone: str = "resnet50", pretrained: str | None = None,
                 embed_dim: int = 6, num_emotions: int = len(EMOTIONS), upsample: str | None = None):
        super().__init__()
        state = read_state_dict(pretrained, "--pretrained") if pretrained else None
        whole = state is not None and "embd.weight" in state  # a trained EmoFCNEL file
        self.base = build_fcnel(arch, backbone, None if whole else pretrained, 3 + embed_dim, upsample)
        self.embd = nn.Embedding(num_emotions, embed_dim)  # PyTorch's N(0, 1) init, as his
        if whole:
            load_state_dict_checked(self, state, "--pretrained (EmoFCNEL weights)", pretrained)

    def forward(self, x: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        emb = self.embd(label)[:, :, None, None].expand(-1, -1, x.shape[-2], x.shape[-1])
        return self.base(torch.cat([x, emb.to(x.dtype)], dim=1))


def build_map_classifier(backbone: str = "resnet50", pretrained: str | None = None,
                         num_classes: int = len(EMOTIONS)) -> torchvision.models.ResNet:
    """Kahsolt's ``train_RIO_clf.py`` ``get_model``: a torchvision ResNet on the one-channel map, its first
    convolution the mean of the (ImageNet) RGB filters, a new ``num_classes`` fc with a zero bias.
    A plain ResNet (no wrapper), so his trained ``model-RIO_clf.pth`` loads as saved."""
    if backbone == "alexnet" or backbone not in BACKBONES:
        raise SystemExit(f"error: the map classifier needs a ResNet backbone, got {backbone!r}")
    what = f"--pretrained ({backbone} weights)"
    state = read_state_dict(pretrained, what) if pretrained else None
    trained = state is not None and state.get("conv1.weight", torch.empty(0, 3)).shape[1:2] == (1,)
    net = getattr(torchvision.models, backbone)(weights=None)
    if state is not None and not trained:  # ImageNet: load first, then adapt conv1 / fc as his code does
        load_state_dict_checked(net, state, what, pretrained, keep_init=("fc.",))
    net.conv1 = _widen_first_conv(net.conv1, 1)
    net.fc = nn.Linear(net.fc.in_features, num_classes)
    nn.init.zeros_(net.fc.bias)
    if trained:
        load_state_dict_checked(net, state, what, pretrained)
    return net


def euclidean_loss(pred: torch.Tensor, target: torch.Tensor, reduction: str = "caffe") -> torch.Tensor:
    """``caffe``: Caffe's EuclideanLoss, sum of squared errors / (2 * batch) — what the paper's lr 1e-8 is
    tuned for; ``mean``: mean squared error per pixel (Kahsolt's ``F.mse_loss``, lr 1e-2)."""
    if reduction == "caffe":
        return (pred.float() - target.float()).pow(2).sum() / (2 * pred.shape[0])
    if reduction == "mean":
        return F.mse_loss(pred.float(), target.float())
    raise ValueError(f"unknown reduction {reduction!r}")
