"""A small synthetic EmotionROI in the official layout, for tests and the demo reproduction.

Each photo is a textured background with one "stimulus" object whose kind decides the emotion
(a red spiky star for anger, a yellow sun for joy, ...) plus one to three neutral distractor
objects.  The ground-truth map is made the way EmotionROI's are: 15 "annotators" each draw a
rectangle around the region that evokes the emotion (jittered around the object's box; now and
then one marks a distractor instead, or the whole image), the 15 binary masks are summed and stored as
votes x 255/15 (levels in steps of 17; a map's maximum is below 255 when no pixel has all 15 votes, and an
annotator who marked the whole image raises the floor, as on many real EmotionROI maps), and saved as a
grayscale JPEG of the image's size.

    python -m emotionroi_ex.demo_data --out data/demo/EmotionROI --per-class 24
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from emotionroi_ex import EMOTIONS
from shared_utils.cli import ArgumentParser, holdout_share, nonnegative_int, positive_int
from shared_utils.files import DEMO_MARKER, claim_output_folder

ANNOTATORS = 15
WHOLE_IMAGE_PROB = 0.06  # an annotator who marks the whole image: 1 - 0.94**15 = 60 % of maps get a raised floor
DISTRACTOR_PROB = 0.1


def _background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Smooth two-colour gradient plus blurred noise: texture for saliency to latch onto."""
    top, bottom = rng.uniform(40, 220, size=3), rng.uniform(40, 220, size=3)
    t = np.linspace(0.0, 1.0, height)[:, None, None]
    image = top * (1 - t) + bottom * t
    image = np.broadcast_to(image, (height, width, 3)).copy()
    noise = cv2.GaussianBlur(rng.normal(0, 25, size=(height, width, 3)), (0, 0), 2.0)
    return np.clip(image + noise, 0, 255)


def _draw_stimulus(image: np.ndarray, emotion: str, cx: int, cy: int, r: int, rng: np.random.Generator):
    """Draw the emotion's object centred at (cx, cy) with size r; return its box (x0, y0, x1, y1)."""
    if emotion == "anger":  # red spiky star
        angles = np.linspace(0, 2 * np.pi, 17)[:-1] + rng.uniform(0, 0.4)
        radii = np.where(np.arange(16) % 2 == 0, r, r * 0.45)
        pts = np.stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)], 1).astype(np.int32)
        cv2.fillPoly(image, [pts], (220, 30, 30), lineType=cv2.LINE_AA)
        return cx - r, cy - r, cx + r, cy + r
    if emotion == "disgust":  # wide olive blob with dark spots
        axes = (int(r * 1.3), int(r * 0.7))
        cv2.ellipse(image, (cx, cy), axes, rng.uniform(-15, 15), 0, 360, (110, 130, 30), -1, cv2.LINE_AA)
        for _ in range(5):
            sx = cx + rng.integers(-axes[0] // 2, axes[0] // 2 + 1)
            sy = cy + rng.integers(-axes[1] // 2, axes[1] // 2 + 1)
            cv2.circle(image, (int(sx), int(sy)), max(2, r // 6), (60, 50, 20), -1, cv2.LINE_AA)
        return cx - axes[0], cy - axes[1], cx + axes[0], cy + axes[1]
    if emotion == "fear":  # black spider: body and eight legs
        body = max(3, r // 3)
        cv2.circle(image, (cx, cy), body, (15, 15, 15), -1, cv2.LINE_AA)
        for k in range(8):
            a = np.pi * (k + 0.5) / 4
            cv2.line(image, (cx, cy), (int(cx + r * np.cos(a)), int(cy + 0.8 * r * np.sin(a))), (15, 15, 15),
                     max(1, r // 10), cv2.LINE_AA)
        return cx - r, cy - int(0.8 * r), cx + r, cy + int(0.8 * r)
    if emotion == "joy":  # yellow sun with rays
        cv2.circle(image, (cx, cy), int(r * 0.6), (250, 220, 40), -1, cv2.LINE_AA)
        for k in range(12):
            a = 2 * np.pi * k / 12
            cv2.line(image, (int(cx + 0.65 * r * np.cos(a)), int(cy + 0.65 * r * np.sin(a))),
                     (int(cx + r * np.cos(a)), int(cy + r * np.sin(a))), (250, 200, 30), max(1, r // 10), cv2.LINE_AA)
        return cx - r, cy - r, cx + r, cy + r
    if emotion == "sadness":  # tall blue teardrop
        w, h = int(r * 0.6), int(r * 1.3)
        cv2.ellipse(image, (cx, cy + h // 3), (w, int(h * 0.6)), 0, 0, 360, (40, 70, 200), -1, cv2.LINE_AA)
        tip = np.array([[cx - w + 1, cy + h // 3], [cx + w - 1, cy + h // 3], [cx, cy - h]], np.int32)
        cv2.fillPoly(image, [tip], (40, 70, 200), lineType=cv2.LINE_AA)
        return cx - w, cy - h, cx + w, cy + h // 3 + int(h * 0.6)
    if emotion == "surprise":  # magenta gift box with a white ribbon
        w, h = int(r * 0.9), int(r * 0.8)
        cv2.rectangle(image, (cx - w, cy - h), (cx + w, cy + h), (200, 40, 200), -1)
        cv2.rectangle(image, (cx - max(1, r // 8), cy - h), (cx + max(1, r // 8), cy + h), (245, 245, 245), -1)
        return cx - w, cy - h, cx + w, cy + h
    raise ValueError(f"unknown emotion {emotion!r}")


def _draw_distractor(image: np.ndarray, rng: np.random.Generator) -> tuple[int, int, int, int]:
    """A plain box or ellipse of any colour: as salient as the stimulus, but it evokes nothing, so
    saliency and objectness maps are drawn to it while the annotators are not."""
    height, width = image.shape[:2]
    r = int(rng.integers(max(4, min(height, width) // 9), max(6, min(height, width) // 4.5)))
    cx, cy = int(rng.integers(r, width - r)), int(rng.integers(r, height - r))
    colour = tuple(float(c) for c in rng.integers(0, 256, size=3))
    if rng.random() < 0.5:
        cv2.rectangle(image, (cx - r, cy - r // 2), (cx + r, cy + r // 2), colour, -1)
        return cx - r, cy - r // 2, cx + r, cy + r // 2
    cv2.ellipse(image, (cx, cy), (r, int(r * 0.7)), 0, 0, 360, colour, -1, cv2.LINE_AA)
    return cx - r, cy - int(r * 0.7), cx + r, cy + int(r * 0.7)


def annotator_map(box, distractors, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Sum of 15 jittered annotator rectangles, as votes x 255/15 (uint8)."""
    votes = np.zeros((height, width), np.float32)
    for _ in range(ANNOTATORS):
        x0, y0, x1, y1 = box
        draw = rng.random()
        if draw < WHOLE_IMAGE_PROB:  # an annotator for whom the whole scene evokes the emotion
            votes += 1
            continue
        if distractors and draw < WHOLE_IMAGE_PROB + DISTRACTOR_PROB:  # one who found a distractor moving
            x0, y0, x1, y1 = distractors[int(rng.integers(len(distractors)))]
        bw, bh = x1 - x0, y1 - y0
        # annotators draw loose boxes: each edge moves by ~15% of the box size, a bit more outward
        dx0, dx1 = rng.normal(-0.08, 0.15, 2) * bw
        dy0, dy1 = rng.normal(-0.08, 0.15, 2) * bh
        ax0, ax1 = int(np.clip(x0 + dx0, 0, width - 1)), int(np.clip(x1 - dx1, 0, width - 1))
        ay0, ay1 = int(np.clip(y0 + dy0, 0, height - 1)), int(np.clip(y1 - dy1, 0, height - 1))
        if ax1 > ax0 and ay1 > ay0:
            votes[ay0 : ay1 + 1, ax0 : ax1 + 1] += 1
    return np.round(votes * 255 / ANNOTATORS).astype(np.uint8)


def make_example(emotion: str, rng: np.random.Generator, size_range=(96, 144)):
    """One (RGB uint8 image, uint8 map) pair of a random size within ``size_range``."""
    width = int(rng.integers(size_range[0], size_range[1] + 1))
    height = int(rng.integers(int(size_range[0] * 0.75), int(size_range[1] * 0.9) + 1))
    image = _background(rng, height, width)
    distractors = [_draw_distractor(image, rng) for _ in range(int(rng.integers(1, 4)))]
    r = int(rng.integers(min(height, width) // 7, min(height, width) // 3.5))
    cx = int(rng.integers(int(1.3 * r), width - int(1.3 * r)))
    cy = int(rng.integers(int(1.3 * r), height - int(1.3 * r)))
    box = _draw_stimulus(image, emotion, cx, cy, r, rng)
    box = tuple(int(v) for v in (max(box[0], 0), max(box[1], 0), min(box[2], width - 1), min(box[3], height - 1)))
    image = np.clip(image + rng.normal(0, 4, image.shape), 0, 255).astype(np.uint8)  # sensor noise
    return image, annotator_map(box, distractors, height, width, rng)


def write_demo_dataset(out: str | Path, per_class: int = 24, test_fraction: float = 1 / 3, seed: int = 0,
                       size_range=(96, 144)) -> Path:
    """Write ``out/images``, ``out/ground_truth``, ``out/training_testing_split`` (deterministic)."""
    out = Path(out)
    claim_output_folder(out, "emotionroi_ex.demo_data")  # never a user's folder: only an empty one or ours
    tmp = claim_output_folder(out.with_name(out.name + ".partial"), "emotionroi_ex.demo_data")
    shutil.rmtree(tmp)
    rng = np.random.default_rng(seed)
    training, testing = [], []
    n_test = max(1, round(per_class * test_fraction))
    for emotion in EMOTIONS:
        (tmp / "images" / emotion).mkdir(parents=True)
        (tmp / "ground_truth" / emotion).mkdir(parents=True)
        test_ids = set(rng.choice(np.arange(1, per_class + 1), n_test, replace=False).tolist())
        for n in range(1, per_class + 1):
            image, gt = make_example(emotion, rng, size_range)
            Image.fromarray(image).save(tmp / "images" / emotion / f"{n}.jpg", quality=92)
            Image.fromarray(gt, mode="L").save(tmp / "ground_truth" / emotion / f"{n}.jpg", quality=92)
            (testing if n in test_ids else training).append(f"{emotion}/{n}.jpg")
    (tmp / "training_testing_split").mkdir()
    (tmp / "training_testing_split" / "training.txt").write_text("\n".join(training) + "\n")
    (tmp / "training_testing_split" / "testing.txt").write_text("\n".join(testing) + "\n")
    (tmp / DEMO_MARKER).write_text(f"emotionroi_ex demo data: per_class={per_class} seed={seed} size={size_range}\n")
    shutil.rmtree(out)  # ours: claimed above
    tmp.rename(out)  # never leave a half-written dataset under the final name
    return out


def main(argv=None):
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder to write (the EmotionROI root)")
    parser.add_argument("--per-class", type=positive_int, default=24)
    parser.add_argument("--test-fraction", type=holdout_share, default=1 / 3)
    parser.add_argument("--seed", type=nonnegative_int, default=0)
    parser.add_argument("--min-size", type=positive_int, default=96)
    parser.add_argument("--max-size", type=positive_int, default=144)
    args = parser.parse_args(argv)
    if args.min_size > args.max_size:
        raise SystemExit(f"error: --min-size {args.min_size} is larger than --max-size {args.max_size}")
    path = write_demo_dataset(args.out, args.per_class, args.test_fraction, args.seed, (args.min_size, args.max_size))
    print(f"wrote demo EmotionROI ({args.per_class} images per emotion) to {path}")


if __name__ == "__main__":
    main()
