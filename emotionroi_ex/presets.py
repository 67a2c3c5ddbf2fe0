"""Paired transforms for (image, stimuli map): the same geometry for both, different interpolation.

As torchvision's references/classification/presets.py, but every geometric op is applied to the
image with bilinear and to the map with nearest-exact interpolation (Kahsolt/EmotionROI-ex ``data.py``),
so the map keeps its annotator vote levels and stays aligned with the image pixel for pixel.
"""

from __future__ import annotations

import numpy as np
import torch
import torchvision.transforms.functional as TF
from PIL import Image
from torchvision.transforms import InterpolationMode, RandomResizedCrop

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _to_tensors(image: Image.Image, stimuli_map: Image.Image, mean, std):
    image_t = TF.normalize(TF.to_tensor(image), mean, std)
    map_t = torch.from_numpy(np.asarray(stimuli_map, dtype=np.float32) / 255.0)[None]
    return image_t, map_t


class PairedTrainPreset:
    """Kahsolt's ``data.py`` (``transform_image``, ``transform_annot``, ``RandomResizedCropDual``,
    ``RandomHorizontalFlipDual``): both to tensors first (image normalised with ImageNet statistics, map / 255),
    then one random resized crop (torchvision's default scale (0.08, 1) and ratio) resampled bilinearly with
    antialiasing for the image and ``nearest-exact`` for the map, then a joint horizontal flip."""

    def __init__(self, crop_size: int, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3), hflip_prob: float = 0.5,
                 mean=IMAGENET_MEAN, std=IMAGENET_STD):
        self.crop_size, self.scale, self.ratio, self.hflip_prob = crop_size, scale, ratio, hflip_prob
        self.mean, self.std = mean, std

    def __call__(self, image: Image.Image, stimuli_map: Image.Image):
        image_t, map_t = _to_tensors(image, stimuli_map, self.mean, self.std)
        top, left, height, width = RandomResizedCrop.get_params(image_t, list(self.scale), list(self.ratio))
        size = [self.crop_size, self.crop_size]
        image_t = TF.resized_crop(image_t, top, left, height, width, size, InterpolationMode.BILINEAR, antialias=True)
        map_t = TF.resized_crop(map_t, top, left, height, width, size, InterpolationMode.NEAREST_EXACT,
                                antialias=False)
        if torch.rand(1).item() < self.hflip_prob:
            image_t, map_t = TF.hflip(image_t), TF.hflip(map_t)
        return image_t, map_t


class PairedEvalPreset:
    """Native resolution by default (the paper scores maps at the image's own size).

    ``max_side`` optionally shrinks large images for speed; the map is then predicted at that
    size and resized back to the ground truth's size by the evaluator, never the other way round.
    """

    def __init__(self, max_side: int | None = None, mean=IMAGENET_MEAN, std=IMAGENET_STD):
        self.max_side, self.mean, self.std = max_side, mean, std

    def __call__(self, image: Image.Image, stimuli_map: Image.Image):
        if self.max_side and max(image.size) > self.max_side:
            scale = self.max_side / max(image.size)
            new_size = [max(1, round(image.size[1] * scale)), max(1, round(image.size[0] * scale))]
            image = TF.resize(image, new_size, InterpolationMode.BILINEAR, antialias=True)
        image_t = TF.normalize(TF.to_tensor(image), self.mean, self.std)
        map_t = torch.from_numpy(np.asarray(stimuli_map, dtype=np.float32) / 255.0)[None]
        return image_t, map_t


class MapOnlyPreset:
    """For the map-to-emotion classifier (Kahsolt's ``Emotion6Hard``): the ground-truth map alone, / 255.
    Training: random resized crop to ``size`` (``nearest-exact``, no antialiasing) and horizontal flip;
    evaluation (``size=None``): the map at its native size, as his test loader (batch 1) sees it."""

    def __init__(self, size: int | None, train: bool, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3),
                 hflip_prob: float = 0.5):
        self.size, self.train, self.scale, self.ratio, self.hflip_prob = size, train, scale, ratio, hflip_prob

    def __call__(self, image: Image.Image, stimuli_map: Image.Image):
        map_t = torch.from_numpy(np.asarray(stimuli_map, dtype=np.float32) / 255.0)[None]
        if self.train:
            top, left, height, width = RandomResizedCrop.get_params(map_t, list(self.scale), list(self.ratio))
            map_t = TF.resized_crop(map_t, top, left, height, width, [self.size, self.size],
                                    InterpolationMode.NEAREST_EXACT, antialias=False)
            if torch.rand(1).item() < self.hflip_prob:
                map_t = TF.hflip(map_t)
        elif self.size:
            map_t = TF.resize(map_t, [self.size, self.size], InterpolationMode.NEAREST_EXACT, antialias=False)
        return map_t, map_t
