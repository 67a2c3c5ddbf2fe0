"""Scoring one person in one image: the 26 category scores and valence/arousal/dominance (1-10).

Shared by ``main.py --mode inference`` and the context page (``app.py``), so both give the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image

from emotic_context.dataset import VAD_SCALE, black_out_person, context_and_body, normalized_box
from emotic_context.presets import stream_transforms


@torch.no_grad()
def score_person(model, arch: dict, image: np.ndarray, box: Sequence[int], rt) -> tuple[np.ndarray, np.ndarray]:
    """``box`` (x1, y1, x2, y2), already clamped to the image -> (26 sigmoid-free category scores, VAD on 1-10)."""
    context_tf, body_tf = stream_transforms(train=False)
    height, width = image.shape[:2]
    context, body = context_and_body(image, box, arch["context_size"], arch["body_size"])
    if arch["mask_body"]:
        context = black_out_person(context, normalized_box(box, (width, height)))
    with rt.eval_autocast():
        cat, cont = model(rt.to_device(context_tf(Image.fromarray(context))[None]),
                          rt.to_device(body_tf(Image.fromarray(body))[None]))
    return cat[0].float().cpu().numpy(), cont[0].float().cpu().numpy() * VAD_SCALE
