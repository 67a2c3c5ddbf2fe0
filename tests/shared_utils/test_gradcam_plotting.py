"""Grad-CAM hooks are released; the figures are real PNGs; torchvision imports on CPU torch."""

import subprocess
import sys

import numpy as np
import pytest
import torch
import torchvision
from helpers.hooks import hook_count
from PIL import Image
from torch import nn

from shared_utils import plotting
from shared_utils.gradcam import CamExplainer, preset_target_layers


class FrameClassifier(nn.Module):
    """A TSN-like model: (B, T*3, H, W) -> trunk per frame -> average over T -> logits."""

    def __init__(self, frames=4):
        super().__init__()
        self.frames = frames
        self.trunk = torchvision.models.resnet18(num_classes=5)

    def forward(self, x):
        b = x.shape[0]
        logits = self.trunk(x.view(b * self.frames, 3, *x.shape[-2:]))
        return logits.view(b, self.frames, -1).mean(dim=1)


def test_hooks_are_released_after_use_and_on_error():
    model = FrameClassifier()
    assert hook_count(model) == 0
    layers = preset_target_layers(model.trunk, "resnet")
    with CamExplainer(model, layers, method="gradcam") as cam:
        assert hook_count(model) > 0
        maps = cam(torch.randn(1, 4 * 3, 64, 64), target_index=2, multilabel=True)
    assert hook_count(model) == 0
    assert maps.shape == (4, 64, 64)  # one map per frame of the clip
    assert maps.min() >= 0 and maps.max() <= 1
    with pytest.raises(IndexError):
        with CamExplainer(model, layers, method="gradcam++") as cam:
            cam(torch.randn(1, 12, 64, 64), target_index=99)  # pytorch-grad-cam alone would swallow this
    assert hook_count(model) == 0


def test_cam_points_at_the_evidence():
    """Logit = mean brightness response; only a square in the top-left is bright: the map must
    be high on that square and low elsewhere (catches flipped or misaligned upsampling)."""
    features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU())
    with torch.no_grad():
        features[0].weight.fill_(0.1)
        features[0].bias.zero_()

    class Brightness(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = features

        def forward(self, x):
            return self.features(x).mean(dim=(1, 2, 3))[:, None].repeat(1, 2)

    model = Brightness()
    image = torch.zeros(1, 1, 32, 32)
    image[..., 2:10, 3:11] = 1.0
    with CamExplainer(model, [model.features], method="gradcam") as cam:
        maps = cam(image, target_index=0)
    assert maps[0, 3:9, 4:10].mean() > 0.8 and maps[0, 16:, 16:].max() < 0.05


def test_presets_and_unknown_method():
    mobilenet = torchvision.models.mobilenet_v2()
    assert preset_target_layers(mobilenet, "mobilenet_v2") == [mobilenet.features[-1]]
    resnet = torchvision.models.resnet18()
    assert preset_target_layers(resnet, "resnet") == [resnet.layer4[-1]]
    with pytest.raises(ValueError, match="unknown CAM method"):
        CamExplainer(nn.Linear(2, 2), [], method="scorecam")
    with pytest.raises(ValueError, match="no Grad-CAM target-layer preset"):
        preset_target_layers(nn.Linear(2, 2), "resnet")


def _png_size(path):
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.size


def test_plots_are_written_as_png(tmp_path):
    csv_path = tmp_path / "summary.csv"
    csv_path.write_text("epoch,train_loss,val_loss,val_acc,lr\n1,1.0,1.1,0.4,0.1\n2,0.8,0.9,0.5,0.1\n")
    assert _png_size(plotting.plot_learning_curves(csv_path, tmp_path / "curves.png"))[0] > 300
    cm = np.array([[5, 1], [2, 7]])
    plotting.plot_confusion_matrix(cm, ["a", "b"], tmp_path / "cm.png")
    plotting.plot_per_label_bars({"x": 0.7, "y": None}, tmp_path / "bars.png", "AUC", "auc", reference=0.5)
    y = (np.random.default_rng(0).random((40, 3)) < 0.5).astype(int)
    s = np.random.default_rng(1).random((40, 3))
    plotting.plot_roc_curves(y, s, ["a", "b", "c"], tmp_path / "roc.png")
    plotting.plot_pr_curves(y, s, ["a", "b", "c"], tmp_path / "pr.png")
    plotting.plot_matrix(np.eye(3), list("abc"), list("abc"), tmp_path / "m.png", "matrix")
    image = np.zeros((20, 30, 3), np.uint8)
    heat = np.zeros((5, 5))
    heat[:, :2] = 1.0
    overlay = plotting.overlay_heatmap(image, heat, alpha=0.5)
    assert overlay.shape == (20, 30, 3)
    assert overlay[:, :5, 0].mean() > overlay[:, -5:, 0].mean()  # hot (red) where the heat is
    plotting.save_image_grid([image, overlay, np.zeros((20, 30))], tmp_path / "grid.png", titles=["a", "b", "c"])
    for name in ("cm", "bars", "roc", "pr", "m", "grid"):
        assert _png_size(tmp_path / f"{name}.png")[0] > 100


def test_torchvision_fix_only_where_needed():
    """In a fresh interpreter: plain `import torchvision` fails here exactly when the fix patches."""
    code = ("import torch, importlib, sys\n"
            "try:\n    import torchvision; plain_ok = True\nexcept RuntimeError:\n    plain_ok = False\n"
            "print(plain_ok)")
    plain_ok = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "True"
    code = ("import sys, shared_utils\nassert 'torch' not in sys.modules\n"
            "import torchvision\nfrom shared_utils import torchvision_compat\n"
            "print(torchvision_compat.PATCHED); torchvision.models.resnet18()")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(not plain_ok)
