"""Transforms, torchvision-reference style, but applied to whole uint8 batches on the training device.

Per-sample PIL/torchvision transforms on 48x48 faces would cost more than the small network's step; here one
``affine_grid`` + ``grid_sample`` call does random crop, horizontal flip, rotation, scale and translation for every
sample of a batch with its own parameters, and random erasing is a broadcast mask.  Inputs: uint8 (B, H, W) or
(B, 1, H, W); outputs: float (B, 1, crop, crop), normalised.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# Mean and std of the FER2013 Training split's pixels in [0, 1] (measured on the 28,709 training images:
# 0.5077 / 0.2551). The checkpoint stores the values used, so evaluation always matches training.
FER_MEAN = 0.5077
FER_STD = 0.2551


def _as_float(images: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    if images.dim() == 3:
        images = images.unsqueeze(1)
    return (images.float() / 255.0 - mean) / std


class ClassificationPresetTrain(torch.nn.Module):
    """Random crop (``crop_size`` out of the 48x48 image), horizontal flip, rotation (+-``rotation`` degrees),
    scale (1 +- ``scale``), translation (+-``translate`` of the side), then optional random erasing."""

    def __init__(self, crop_size: int = 44, hflip_prob: float = 0.5, rotation: float = 10.0, scale: float = 0.1,
                 translate: float = 0.0, random_erase_prob: float = 0.0, mean: float = FER_MEAN, std: float = FER_STD):
        super().__init__()
        self.crop_size, self.hflip_prob, self.rotation, self.scale = crop_size, hflip_prob, rotation, scale
        self.translate, self.random_erase_prob, self.mean, self.std = translate, random_erase_prob, mean, std

    @torch.no_grad()
    def forward(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        x = _as_float(images, self.mean, self.std)
        batch, _, height, width = x.shape
        dev = x.device

        def uniform(low, high):
            return torch.rand(batch, device=dev, generator=generator) * (high - low) + low

        angle = uniform(-self.rotation, self.rotation) * (math.pi / 180.0)
        zoom = uniform(1.0 - self.scale, 1.0 + self.scale)
        flip = torch.where(torch.rand(batch, device=dev, generator=generator) < self.hflip_prob, -1.0, 1.0)
        # The crop window covers crop/size of the image (normalised coordinates span 2 units); its centre moves by
        # up to the free margin, plus the extra translation.
        span_x, span_y = self.crop_size / width, self.crop_size / height
        shift_x = uniform(-1, 1) * ((1 - span_x) + 2 * self.translate)
        shift_y = uniform(-1, 1) * ((1 - span_y) + 2 * self.translate)
        cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
        theta = torch.stack([
            torch.stack([cos * span_x * flip, -sin * span_y, shift_x], 1),
            torch.stack([sin * span_x * flip, cos * span_y, shift_y], 1),
        ], 1)
        grid = F.affine_grid(theta, [batch, 1, self.crop_size, self.crop_size], align_corners=False)
        # Border padding: pixels pulled in from outside repeat the edge instead of a black (= unusual) frame.
        out = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
        if self.random_erase_prob > 0:
            out = random_erase(out, self.random_erase_prob, generator)
        return out


def random_erase(x: torch.Tensor, prob: float, generator: torch.Generator | None = None,
                 area=(0.02, 0.2), ratio=(0.3, 3.3)) -> torch.Tensor:
    """Per-sample random erasing (Zhong et al. 2020) with a zero (= mean-valued after normalisation) rectangle."""
    batch, _, height, width = x.shape
    dev = x.device
    rand = lambda: torch.rand(batch, device=dev, generator=generator)  # noqa: E731
    target = (rand() * (area[1] - area[0]) + area[0]) * height * width
    log_ratio = rand() * (math.log(ratio[1]) - math.log(ratio[0])) + math.log(ratio[0])
    aspect = torch.exp(log_ratio)
    h = torch.sqrt(target * aspect).clamp(1, height)
    w = torch.sqrt(target / aspect).clamp(1, width)
    top = rand() * (height - h)
    left = rand() * (width - w)
    rows = torch.arange(height, device=dev).view(1, height, 1)
    cols = torch.arange(width, device=dev).view(1, 1, width)
    inside = ((rows >= top.view(-1, 1, 1)) & (rows < (top + h).view(-1, 1, 1))
              & (cols >= left.view(-1, 1, 1)) & (cols < (left + w).view(-1, 1, 1)))
    apply = (rand() < prob).view(-1, 1, 1)
    mask = (inside & apply).unsqueeze(1)
    return x.masked_fill(mask, 0.0)


class ClassificationPresetEval(torch.nn.Module):
    """Centre crop to ``crop_size`` and normalise; ``ten_crop`` returns (B, 10, 1, crop, crop): the four corners
    and the centre, each also mirrored (Krizhevsky et al. 2012), for test-time averaging."""

    def __init__(self, crop_size: int = 44, ten_crop: bool = False, mean: float = FER_MEAN, std: float = FER_STD):
        super().__init__()
        self.crop_size, self.ten_crop, self.mean, self.std = crop_size, ten_crop, mean, std

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = _as_float(images, self.mean, self.std)
        height, width = x.shape[-2:]
        c = self.crop_size
        if c > height or c > width:
            raise ValueError(f"crop size {c} is larger than the {height}x{width} images")
        top, left = (height - c) // 2, (width - c) // 2
        if not self.ten_crop:
            return x[..., top:top + c, left:left + c]
        offsets = [(0, 0), (0, width - c), (height - c, 0), (height - c, width - c), (top, left)]
        crops = [x[..., i:i + c, j:j + c] for i, j in offsets]
        crops += [crop.flip(-1) for crop in crops]
        return torch.stack(crops, 1)
