"""A surgical-mask-shaped occluder drawn over the lower face from the 68 OpenFace landmarks.

The mask spans the jaw line (points 1..15, through the chin at 8) and is closed at the top by a
line across the nose bridge (halfway between points 28 and 29, below the lower eyelids), so it
covers nose tip, mouth, chin and lower cheeks like a medical mask; a few pleat lines make it look
like fabric rather than a flat patch.
"""

from __future__ import annotations

import cv2
import numpy as np

MASK_COLOR = (205, 225, 240)  # light blue-white, RGB
PLEAT_COLOR = (160, 185, 205)
JAW = list(range(1, 16))
NOSE_BRIDGE = (28, 29)


def mask_top(xs: np.ndarray, ys: np.ndarray) -> tuple[float, float]:
    """The mask's top edge: y and x on the nose bridge."""
    return float(np.mean([ys[i] for i in NOSE_BRIDGE])), float(np.mean([xs[i] for i in NOSE_BRIDGE]))


def mask_polygon(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """(K, 2) int32 polygon of the mask in pixel coordinates from 68 landmark x / y arrays."""
    xs = np.asarray(xs, dtype=np.float64)
    ys = np.asarray(ys, dtype=np.float64)
    top_y, bridge_x = mask_top(xs, ys)
    jaw = [(xs[i], ys[i]) for i in JAW]
    # The jaw's upper ends sit at eye level; the mask's top edge is at the nose bridge.
    left = (xs[JAW[0]], top_y)
    right = (xs[JAW[-1]], top_y)
    points = [left, *jaw, right, (bridge_x, top_y - 0.02 * (ys[8] - top_y))]
    return np.round(np.array(points)).astype(np.int32)


def draw_surgical_mask(image: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Return a copy of the RGB uint8 ``image`` with the occluder drawn; ``image`` is untouched."""
    out = np.ascontiguousarray(image.copy())
    polygon = mask_polygon(xs, ys)
    cv2.fillPoly(out, [polygon], MASK_COLOR, lineType=cv2.LINE_AA)
    top_y, chin_y = mask_top(xs, ys)[0], float(ys[8])
    left_x, right_x = float(xs[JAW[0]]), float(xs[JAW[-1]])
    thickness = max(1, int(round((chin_y - top_y) / 40)))
    for frac in (0.3, 0.5, 0.7):  # pleats, clipped to the mask outline
        y = int(round(top_y + frac * (chin_y - top_y)))
        pleat = np.zeros(out.shape[:2], np.uint8)
        cv2.line(pleat, (int(left_x), y), (int(right_x), y), 255, thickness)
        inside = np.zeros_like(pleat)
        cv2.fillPoly(inside, [polygon], 255)
        out[(pleat > 0) & (inside > 0)] = PLEAT_COLOR
    return out
