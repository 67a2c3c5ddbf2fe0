"""The paper's comparison maps, computed here so they are scored exactly like FCNEL:

- ``spectral_residual``: saliency by the spectral residual (Hou & Zhang, CVPR 2007);
- ``center_bias``: an image-centred Gaussian prior;
- ``objectness``: an objectness-style map in the spirit of Alexe et al. (TPAMI 2012): windows are
  scored by multi-scale saliency, colour contrast against their surround and edge density near
  their border; a pixel's value is the summed score of the top windows covering it (the
  superpixel-straddling cue is left out: it needs a segmentation OpenCV-headless lacks);
- ``mean_map``: the training set's average ground-truth map (the trivial predictor of results.json).

Every function takes an RGB uint8 image (H, W, 3) and returns a float32 map (H, W) in [0, 1]: the three
detectors' raw outputs have an arbitrary scale, so each is min-max scaled on its own side (as a saliency
map saved as an 8-bit image is); the mean map is already on the ground truth's scale and is left as it is.
"""

from __future__ import annotations

import cv2
import numpy as np

from shared_utils.metrics import normalize_map


def _resize(m: np.ndarray, height: int, width: int) -> np.ndarray:
    return cv2.resize(m.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)


def spectral_residual(image: np.ndarray, work_width: int = 64, blur_sigma: float = 3.0) -> np.ndarray:
    """Log-amplitude spectrum minus its local (3x3) average, back with the original phase, squared, blurred."""
    height, width = image.shape[:2]
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    work_h = max(8, round(height * work_width / width))
    small = cv2.resize(gray, (work_width, work_h), interpolation=cv2.INTER_AREA)
    spectrum = np.fft.fft2(small)
    log_amplitude = np.log(np.abs(spectrum) + 1e-8)
    phase = np.angle(spectrum)
    residual = log_amplitude - cv2.blur(log_amplitude, (3, 3), borderType=cv2.BORDER_REPLICATE)
    saliency = np.abs(np.fft.ifft2(np.exp(residual + 1j * phase))) ** 2
    saliency = cv2.GaussianBlur(saliency.astype(np.float32), (0, 0), blur_sigma)
    return normalize_map(_resize(saliency, height, width)).astype(np.float32)


def center_bias(image: np.ndarray, sigma_fraction: float = 0.25) -> np.ndarray:
    """Gaussian centred on the image, standard deviation ``sigma_fraction`` of each side."""
    height, width = image.shape[:2]
    ys = (np.arange(height) - (height - 1) / 2) / (sigma_fraction * height)
    xs = (np.arange(width) - (width - 1) / 2) / (sigma_fraction * width)
    return normalize_map(np.exp(-0.5 * (ys[:, None] ** 2 + xs[None, :] ** 2))).astype(np.float32)


def _integral(values: np.ndarray) -> np.ndarray:
    """Zero-padded 2-D cumulative sums over the first two axes (extra axes are kept, e.g. histogram bins)."""
    out = np.zeros((values.shape[0] + 1, values.shape[1] + 1, *values.shape[2:]), np.float64)
    out[1:, 1:] = values.cumsum(0).cumsum(1)
    return out


def _box_sum(integral: np.ndarray, x0, y0, x1, y1):
    """Sums over [y0, y1) x [x0, x1) for arrays of boxes."""
    return integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]


def objectness(image: np.ndarray, work_side: int = 96, top_k: int = 100, bins: int = 4) -> np.ndarray:
    height, width = image.shape[:2]
    scale = work_side / max(height, width)
    h, w = max(16, round(height * scale)), max(16, round(width * scale))
    small = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)

    # candidate windows: a grid of positions at several widths and heights
    boxes = []
    for fw in (0.2, 0.3, 0.45, 0.6, 0.8):
        for fh in (0.2, 0.3, 0.45, 0.6, 0.8):
            bw, bh = max(4, round(fw * w)), max(4, round(fh * h))
            for y0 in np.linspace(0, h - bh, 9).round().astype(int):
                for x0 in np.linspace(0, w - bw, 9).round().astype(int):
                    boxes.append((x0, y0, x0 + bw, y0 + bh))
    boxes = np.unique(np.array(boxes), axis=0)
    x0, y0, x1, y1 = boxes.T
    area = ((x1 - x0) * (y1 - y0)).astype(np.float64)

    # MS: saliency density of the window's salient pixels (Alexe's multi-scale saliency cue, one scale)
    sal = spectral_residual(small, work_width=min(64, w))
    salient = sal >= 0.3
    sal_int, cnt_int = _integral(sal * salient), _integral(salient.astype(np.float64))
    ms = _box_sum(sal_int, x0, y0, x1, y1) * _box_sum(cnt_int, x0, y0, x1, y1) / area**2

    # CC: chi-square distance between colour histograms of the window and its surrounding ring
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB)
    quant = np.minimum(lab.astype(np.int64) * bins // 256, bins - 1)
    codes = (quant[..., 0] * bins + quant[..., 1]) * bins + quant[..., 2]
    hist_int = _integral(np.eye(bins**3, dtype=np.float32)[codes])
    pad_x, pad_y = ((x1 - x0) * 0.25).astype(int) + 1, ((y1 - y0) * 0.25).astype(int) + 1
    ox0, oy0 = np.maximum(x0 - pad_x, 0), np.maximum(y0 - pad_y, 0)
    ox1, oy1 = np.minimum(x1 + pad_x, w), np.minimum(y1 + pad_y, h)
    inner = _box_sum(hist_int, x0, y0, x1, y1)
    ring = _box_sum(hist_int, ox0, oy0, ox1, oy1) - inner
    inner = inner / np.maximum(inner.sum(1, keepdims=True), 1)
    ring = ring / np.maximum(ring.sum(1, keepdims=True), 1)
    cc = 0.5 * ((inner - ring) ** 2 / (inner + ring + 1e-12)).sum(1)

    # ED: density of Canny edges in the band just inside the window's border
    edges = cv2.Canny(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), 80, 160) > 0
    edge_int = _integral(edges.astype(np.float64))
    sx, sy = ((x1 - x0) * 0.25).astype(int), ((y1 - y0) * 0.25).astype(int)
    band = _box_sum(edge_int, x0, y0, x1, y1) - _box_sum(edge_int, x0 + sx, y0 + sy, x1 - sx, y1 - sy)
    band_area = np.maximum(area - (x1 - x0 - 2 * sx) * (y1 - y0 - 2 * sy), 1)
    ed = band / band_area

    # cues combined as a product of their ranks (rank-normalised, so no cue's scale dominates)
    score = np.ones(len(boxes))
    for cue in (ms, cc, ed):
        score *= (np.argsort(np.argsort(cue)) + 1) / len(cue)
    heat = np.zeros((h + 1, w + 1), np.float64)
    for k in np.argsort(-score)[:top_k]:  # summed-area "paint": +s at the box, undone outside it
        heat[y0[k], x0[k]] += score[k]
        heat[y0[k], x1[k]] -= score[k]
        heat[y1[k], x0[k]] -= score[k]
        heat[y1[k], x1[k]] += score[k]
    heat = heat.cumsum(0).cumsum(1)[:h, :w]
    return normalize_map(_resize(heat, height, width)).astype(np.float32)


class MeanMapBaseline:
    """Predict the training set's mean map (given in normalised coordinates), resized to each image."""

    def __init__(self, mean_map: np.ndarray):
        self.mean_map = np.asarray(mean_map, np.float32)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        return _resize(self.mean_map, image.shape[0], image.shape[1])


def make_baselines(train_mean_map: np.ndarray | None = None) -> dict:
    """name -> callable(image uint8 HxWx3) -> map HxW; ``mean_map`` only when the training mean is given."""
    out = {"spectral_residual": spectral_residual, "center_bias": center_bias, "objectness": objectness}
    if train_mean_map is not None:
        out["mean_map"] = MeanMapBaseline(train_mean_map)
    return out
