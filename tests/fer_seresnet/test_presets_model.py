"""Batched augmentation and the three architectures."""

from __future__ import annotations

import pytest
import torch
from torchvision.ops import SqueezeExcitation

from fer_seresnet.model import build_model, count_flops, count_parameters, squeeze_excitation
from fer_seresnet.options import ARCHS
from fer_seresnet.presets import ClassificationPresetEval, ClassificationPresetTrain, random_erase


def _faces(n=4):
    torch.manual_seed(0)
    return torch.randint(0, 256, (n, 48, 48), dtype=torch.uint8)


def test_identity_and_flip_are_exact():
    x = _faces()
    plain = ClassificationPresetTrain(48, hflip_prob=0.0, rotation=0, scale=0, mean=0.0, std=1.0)
    assert torch.allclose(plain(x)[:, 0], x.float() / 255, atol=1e-5)
    flipped = ClassificationPresetTrain(48, hflip_prob=1.0, rotation=0, scale=0, mean=0.0, std=1.0)
    assert torch.allclose(flipped(x)[:, 0], x.float().flip(-1) / 255, atol=1e-5)


def test_random_crop_is_a_window_of_the_image():
    x = _faces(8)
    crop = ClassificationPresetTrain(44, hflip_prob=0.0, rotation=0, scale=0, mean=0.0, std=1.0)
    torch.manual_seed(1)
    out = crop(x)[:, 0] * 255
    assert out.shape == (8, 44, 44)
    # With no rotation/zoom, the crop lands on the pixel grid only for integer shifts; check it is a bilinear
    # window: each output row/column lies within the image's value range and samples differ (random offsets).
    offsets = set()
    for n in range(8):
        errors = {(i, j): (out[n] - x[n, i:i + 44, j:j + 44].float()).abs().mean().item()
                  for i in range(5) for j in range(5)}
        offsets.add(min(errors, key=errors.get))
    assert len(offsets) > 1


def test_erasing_and_normalisation():
    x = torch.ones(64, 1, 20, 20)
    torch.manual_seed(0)
    erased = random_erase(x, prob=1.0)
    zero_share = (erased == 0).float().mean((1, 2, 3))
    assert (zero_share > 0).all() and (zero_share < 0.5).all()
    assert torch.equal(random_erase(x, prob=0.0), x)
    out = ClassificationPresetTrain(44, mean=0.5, std=0.25)(torch.full((2, 48, 48), 255, dtype=torch.uint8))
    assert torch.allclose(out, torch.full_like(out, 2.0))


def test_ten_crop():
    x = _faces(2)
    ten = ClassificationPresetEval(44, ten_crop=True, mean=0.0, std=1.0)(x)
    assert ten.shape == (2, 10, 1, 44, 44)
    centre = ClassificationPresetEval(44, mean=0.0, std=1.0)(x)
    assert torch.equal(ten[:, 4], centre)
    assert torch.equal(ten[:, 9], centre.flip(-1))
    assert torch.equal(ten[:, 0, 0], x[:, :44, :44].float() / 255)
    assert torch.equal(ten[:, 3, 0], x[:, 4:, 4:].float() / 255)


@pytest.mark.parametrize("arch", ARCHS)
def test_architectures(arch):
    model = build_model(arch, width=8).eval()
    for size in (44, 48):
        assert model(torch.randn(2, 1, size, size)).shape == (2, 7)
        stages = model.forward_stages(torch.randn(1, 1, size, size))
        # No destructive stem: the first convolutions see the full input; the plain CNNs pool at the end of
        # stages 1-3, the ResNets stride at the start of stages 2-4.
        halves = [(size + 1) // 2, (size + 3) // 4, (size + 7) // 8]
        expected = halves + halves[-1:] if arch.endswith("cnn") else [size, *halves]
        assert [s.shape[-1] for s in stages] == expected
        first_conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
        assert first_conv.stride == (1, 1) and first_conv.kernel_size == (3, 3)
    has_se = any(isinstance(m, SqueezeExcitation) for m in model.modules())
    assert has_se == arch.startswith("se_")
    assert count_flops(model, 44) > 0


def test_se_resnet18_size_matches_resnet18():
    model = build_model("se_resnet18", width=64)
    # ResNet-18's convolutions (11.2 M with a 1-channel stem and 7 outputs) plus the SE MLPs.
    assert 11.0e6 < count_parameters(model) < 11.6e6
    flops = count_flops(model, 44)
    assert 2.0e9 < flops < 2.5e9


def test_squeeze_excitation_gates_channels():
    se = squeeze_excitation(16, reduction=4)
    assert [k for k in se.state_dict()] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]  # the old keys
    x = torch.rand(2, 16, 5, 5)
    y = se(x)
    ratio = y / x
    # One gate per (sample, channel), constant over space, in (0, 1).
    assert torch.allclose(ratio, ratio[:, :, :1, :1].expand_as(ratio), atol=1e-5)
    assert (ratio > 0).all() and (ratio < 1).all()
