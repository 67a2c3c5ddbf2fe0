"""Clip transforms (torchvision references style): one random crop / flip per clip, shared by every
frame and by both streams of a fusion clip, so face and body see the same augmentation.

Training follows the original recipe: squash each crop to ``scale x scale``, random ``crop x crop``
window, horizontal flip; evaluation squashes straight to ``crop x crop``.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _to_tensor(images: list[np.ndarray], mean, std) -> torch.Tensor:
    stack = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float().div_(255.0)  # (T, 3, H, W)
    mean_t = torch.tensor(mean).view(1, 3, 1, 1)
    std_t = torch.tensor(std).view(1, 3, 1, 1)
    return stack.sub_(mean_t).div_(std_t)


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    interp = cv2.INTER_AREA if min(image.shape[:2]) > size else cv2.INTER_LINEAR
    return cv2.resize(image, (size, size), interpolation=interp)


class ClipTrainTransform:
    def __init__(self, crop_size: int = 224, scale_size: int = 256, hflip_prob: float = 0.5,
                 mean=IMAGENET_MEAN, std=IMAGENET_STD):
        if scale_size < crop_size:
            raise ValueError(f"scale_size {scale_size} must be >= crop_size {crop_size}")
        self.crop_size, self.scale_size, self.hflip_prob = crop_size, scale_size, hflip_prob
        self.mean, self.std = mean, std

    def draw(self, generator: torch.Generator | None = None) -> tuple[int, int, bool]:
        """The clip's crop offset and flip (torch RNG: seeded per DataLoader worker, saved on resume)."""
        room = self.scale_size - self.crop_size
        top = int(torch.randint(0, room + 1, (1,), generator=generator))
        left = int(torch.randint(0, room + 1, (1,), generator=generator))
        flip = bool(torch.rand(1, generator=generator) < self.hflip_prob)
        return top, left, flip

    def __call__(self, streams: list[list[np.ndarray]]) -> torch.Tensor:
        top, left, flip = self.draw()
        out = []
        for frames in streams:
            images = []
            for image in frames:
                image = _resize(image, self.scale_size)[top:top + self.crop_size, left:left + self.crop_size]
                images.append(np.ascontiguousarray(image[:, ::-1] if flip else image))
            out.append(_to_tensor(images, self.mean, self.std))
        return torch.stack(out)  # (S, T, 3, crop, crop)


class ClipEvalTransform:
    def __init__(self, crop_size: int = 224, mean=IMAGENET_MEAN, std=IMAGENET_STD):
        self.crop_size, self.mean, self.std = crop_size, mean, std

    def __call__(self, streams: list[list[np.ndarray]]) -> torch.Tensor:
        return torch.stack([_to_tensor([_resize(im, self.crop_size) for im in frames], self.mean, self.std)
                            for frames in streams])


def denormalize(frames: torch.Tensor, mean=IMAGENET_MEAN, std=IMAGENET_STD) -> np.ndarray:
    """(T, 3, H, W) normalised tensor -> (T, H, W, 3) uint8, for Grad-CAM overlays."""
    mean_t = torch.tensor(mean).view(1, 3, 1, 1)
    std_t = torch.tensor(std).view(1, 3, 1, 1)
    images = (frames.detach().cpu() * std_t + mean_t).clamp(0, 1).mul(255).round().byte()
    return images.permute(0, 2, 3, 1).numpy()
