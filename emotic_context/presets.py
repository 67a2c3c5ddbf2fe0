"""Transforms, as the port uses them: flip + colour jitter for training, then ToTensor and the port's normalisation.

Context and body get independent random flips (as in the port); evaluation uses no augmentation.
"""

from __future__ import annotations

from torchvision import transforms

# Per-stream RGB mean/std that the port computed on the EMOTIC training images.
CONTEXT_MEAN, CONTEXT_STD = (0.4690646, 0.4407227, 0.40508908), (0.2514227, 0.24312855, 0.24266963)
BODY_MEAN, BODY_STD = (0.43832874, 0.3964344, 0.3706214), (0.24784276, 0.23621225, 0.2323653)


class StreamPresetTrain:
    def __init__(self, mean, std, hflip_prob: float = 0.5, jitter: float = 0.4):
        steps = [transforms.RandomHorizontalFlip(hflip_prob)]
        if jitter > 0:
            steps.append(transforms.ColorJitter(brightness=jitter, contrast=jitter, saturation=jitter))
        steps += [transforms.ToTensor(), transforms.Normalize(mean, std)]
        self.transforms = transforms.Compose(steps)

    def __call__(self, image):
        return self.transforms(image)


class StreamPresetEval:
    def __init__(self, mean, std):
        self.transforms = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])

    def __call__(self, image):
        return self.transforms(image)


def stream_transforms(train: bool, jitter: float = 0.4):
    """``(context_transform, body_transform)`` for training or evaluation."""
    if train:
        return StreamPresetTrain(CONTEXT_MEAN, CONTEXT_STD, jitter=jitter), StreamPresetTrain(BODY_MEAN, BODY_STD,
                                                                                                jitter=jitter)
    return StreamPresetEval(CONTEXT_MEAN, CONTEXT_STD), StreamPresetEval(BODY_MEAN, BODY_STD)
