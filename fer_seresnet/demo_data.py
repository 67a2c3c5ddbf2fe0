"""Deterministic demo data in the official layouts: drawn 48x48 faces whose expression carries the class.

    python -m fer_seresnet.demo_data --out runs/fer_seresnet/demo_data [--layout csv|folders|both]

Writes
  OUT/fer2013/fer2013.csv                       (emotion,pixels,Usage; Training / PublicTest / PrivateTest)
  OUT/fer2013/train|test/<class>/<Usage>_<id>.jpg   (with --layout folders or both)
  OUT/ferplus/fer2013new.csv                    (10 votes per row, same row order, a few not-face rows)
  OUT/rafdb/basic/EmoLabel/list_patition_label.txt + Image/aligned/*_aligned.jpg   (100x100 RGB)

Each face is an ellipse with eyes, brows and a mouth drawn by class: happy smiles, sad frowns with inner brows
raised, angry has a V of brows and narrowed eyes, surprise has high arched brows, wide eyes and an open round mouth,
fear raised brows, wide eyes and a stretched open mouth, disgust an asymmetric lip and a lowered brow, neutral
straight lines.  Position, size, contrast, pose and noise vary per image, so a network has to learn the parts.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from fer_seresnet.options import demo_data_parser
from shared_utils.cli import answer_help_first

answer_help_first(demo_data_parser, __name__)

import csv
from pathlib import Path

import cv2
import numpy as np

from fer_seresnet.dataset import CLASS_NAMES, FERPLUS_TO_FER, FERPLUS_VOTE_COLUMNS, RAFDB_TO_FER
from shared_utils.files import claim_output_folder

SPLIT_SIZES = {"Training": 60, "PublicTest": 20, "PrivateTest": 20}  # per class
RAFDB_SIZES = {"train": 8, "test": 12}  # per class
CANVAS = 96  # drawn at twice the size, then area-downsampled (anti-aliasing)


def draw_face(label: int, rng: np.random.Generator, size: int = 48) -> np.ndarray:
    """One grayscale ``size`` x ``size`` uint8 face showing expression ``label`` (FER2013 order)."""
    name = CLASS_NAMES[label]
    background = int(rng.integers(10, 90))
    skin = int(rng.integers(140, 225))
    ink = int(rng.integers(0, 50))
    img = np.full((CANVAS, CANVAS), background, np.uint8)
    cx, cy = 48 + int(rng.integers(-4, 5)), 50 + int(rng.integers(-4, 5))
    ax, ay = int(rng.integers(30, 37)), int(rng.integers(38, 45))
    cv2.ellipse(img, (cx, cy), (ax, ay), 0, 0, 360, skin, -1, cv2.LINE_AA)
    eye_dx, eye_y = int(rng.integers(12, 16)), cy - int(rng.integers(6, 11))
    thick = int(rng.integers(2, 4))

    # Eyes: wide for surprise/fear, narrowed for angry/disgust.
    eye_h = {"surprise": 6, "fear": 6, "angry": 2, "disgust": 2}.get(name, 4)
    eye_w = 5 if eye_h != 2 else 6
    for side in (-1, 1):
        cv2.ellipse(img, (cx + side * eye_dx, eye_y), (eye_w, eye_h), 0, 0, 360, ink, -1, cv2.LINE_AA)

    # Brows: (inner height, outer height) above the eye, per class; disgust lowers one brow only.
    brow = {"neutral": (11, 11), "happy": (12, 12), "angry": (5, 13), "sad": (15, 9), "surprise": (17, 17),
            "fear": (16, 13), "disgust": (7, 11)}[name]
    for side in (-1, 1):
        inner_h, outer_h = brow
        if name == "disgust" and side == 1:
            inner_h, outer_h = 11, 11
        inner = (cx + side * (eye_dx - 6), eye_y - inner_h)
        outer = (cx + side * (eye_dx + 7), eye_y - outer_h)
        if name == "surprise":  # arched
            cv2.ellipse(img, (cx + side * eye_dx, eye_y - 13), (8, 5), 0, 180, 360, ink, thick, cv2.LINE_AA)
        else:
            cv2.line(img, inner, outer, ink, thick, cv2.LINE_AA)

    # Nose.
    cv2.line(img, (cx, eye_y + 4), (cx - 2, cy + 8), ink, 1, cv2.LINE_AA)
    if name == "disgust":  # wrinkles beside the nose
        for side in (-1, 1):
            cv2.line(img, (cx + side * 4, cy + 2), (cx + side * 8, cy + 5), ink, 1, cv2.LINE_AA)

    # Mouth.
    my = cy + int(rng.integers(18, 23))
    mw = int(rng.integers(10, 14))
    if name == "happy":
        cv2.ellipse(img, (cx, my - 4), (mw + 2, 8), 0, 10, 170, ink, thick, cv2.LINE_AA)
    elif name == "sad":
        cv2.ellipse(img, (cx, my + 5), (mw, 6), 0, 190, 350, ink, thick, cv2.LINE_AA)
    elif name == "surprise":
        cv2.ellipse(img, (cx, my), (6, 9), 0, 0, 360, ink, -1, cv2.LINE_AA)
    elif name == "fear":
        cv2.ellipse(img, (cx, my), (mw + 2, 4), 0, 0, 360, ink, -1, cv2.LINE_AA)
    elif name == "angry":
        cv2.line(img, (cx - mw + 3, my + 1), (cx + mw - 3, my + 1), ink, thick + 1, cv2.LINE_AA)
        cv2.line(img, (cx - mw + 3, my + 1), (cx - mw, my + 4), ink, thick, cv2.LINE_AA)
        cv2.line(img, (cx + mw - 3, my + 1), (cx + mw, my + 4), ink, thick, cv2.LINE_AA)
    elif name == "disgust":
        pts = np.array([[cx - mw, my + 2], [cx - 3, my - 1], [cx + 3, my - 5], [cx + mw, my - 3]], np.int32)
        cv2.polylines(img, [pts], False, ink, thick, cv2.LINE_AA)
    else:  # neutral
        cv2.line(img, (cx - mw, my), (cx + mw, my), ink, thick, cv2.LINE_AA)

    # Head pose and photometric variation.
    angle = float(rng.uniform(-8, 8))
    matrix = cv2.getRotationMatrix2D((CANVAS / 2, CANVAS / 2), angle, float(rng.uniform(0.92, 1.08)))
    img = cv2.warpAffine(img, matrix, (CANVAS, CANVAS), borderValue=background)
    img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)
    gain = rng.uniform(0.8, 1.2)
    img = (img - img.mean()) * gain + img.mean() + rng.normal(0, 6, img.shape)
    if rng.random() < 0.5:  # a soft lighting gradient across the face
        ramp = np.linspace(-1, 1, size)[None, :] * rng.uniform(-25, 25)
        img = img + ramp
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def _fer_rows(seed: int) -> list[tuple[int, np.ndarray, str]]:
    rng = np.random.default_rng(seed)
    rows = []
    for usage, per_class in SPLIT_SIZES.items():
        labels = np.repeat(np.arange(len(CLASS_NAMES)), per_class)
        rng.shuffle(labels)
        rows += [(int(label), draw_face(int(label), rng), usage) for label in labels]
    return rows


def write_demo(out: str | Path, layout: str = "csv", seed: int = 0) -> Path:
    """Write the demo datasets under ``out`` (deterministic for a given seed); returns ``out``. ``out`` must be
    empty, new, or made by this generator before (its DEMO_DATA.txt): a user's data is never overwritten."""
    out = Path(out)
    claim_output_folder(out, "fer_seresnet.demo_data")
    rows = _fer_rows(seed)
    fer_dir = out / "fer2013"
    fer_dir.mkdir(parents=True, exist_ok=True)
    if layout in ("csv", "both"):
        with (fer_dir / "fer2013.csv").open("w", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["emotion", "pixels", "Usage"])
            for label, image, usage in rows:
                writer.writerow([label, " ".join(map(str, image.ravel().tolist())), usage])
    if layout in ("folders", "both"):
        for n, (label, image, usage) in enumerate(rows):
            folder = fer_dir / ("train" if usage == "Training" else "test") / CLASS_NAMES[label]
            folder.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(folder / f"{usage}_{n:07d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    _write_ferplus(out / "ferplus", rows, seed)
    _write_rafdb(out / "rafdb" / "basic", seed)
    return out


def _write_ferplus(folder: Path, rows, seed: int) -> None:
    """Votes: mostly the drawn class, a few for neighbours; every 40th row is marked not-a-face (empty name)."""
    rng = np.random.default_rng(seed + 1)
    folder.mkdir(parents=True, exist_ok=True)
    fer_to_column = {fer: FERPLUS_VOTE_COLUMNS.index(name) for name, fer in FERPLUS_TO_FER.items()}
    with (folder / "fer2013new.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["Usage", "Image name", *FERPLUS_VOTE_COLUMNS])
        for n, (label, _, usage) in enumerate(rows):
            votes = [0] * len(FERPLUS_VOTE_COLUMNS)
            if n % 40 == 39:
                votes[FERPLUS_VOTE_COLUMNS.index("NF")] = 10
                writer.writerow([usage, "", *votes])
                continue
            main = int(rng.integers(6, 11))
            votes[fer_to_column[label]] = main
            for _ in range(10 - main):
                votes[int(rng.integers(0, 9))] += 1
            writer.writerow([usage, f"fer{n:07d}.png", *votes])


def _write_rafdb(folder: Path, seed: int) -> None:
    """RAF-DB basic layout: 100x100 RGB aligned faces (the drawn faces, upsampled and tinted)."""
    rng = np.random.default_rng(seed + 2)
    fer_to_raf = {fer: raf for raf, fer in RAFDB_TO_FER.items()}
    (folder / "EmoLabel").mkdir(parents=True, exist_ok=True)
    (folder / "Image" / "aligned").mkdir(parents=True, exist_ok=True)
    lines = []
    for split, per_class in RAFDB_SIZES.items():
        labels = np.repeat(np.arange(len(CLASS_NAMES)), per_class)
        rng.shuffle(labels)
        for n, label in enumerate(labels, start=1):
            name = f"{split}_{n:05d}.jpg" if split == "train" else f"{split}_{n:04d}.jpg"
            gray = cv2.resize(draw_face(int(label), rng), (100, 100), interpolation=cv2.INTER_CUBIC)
            tint = np.array([rng.uniform(0.85, 1.0), rng.uniform(0.9, 1.0), 1.0])  # skin-ish BGR tint
            color = np.clip(gray[:, :, None] * tint, 0, 255).astype(np.uint8)
            cv2.imwrite(str(folder / "Image" / "aligned" / f"{Path(name).stem}_aligned.jpg"), color)
            lines.append(f"{name} {fer_to_raf[int(label)]}")
    (folder / "EmoLabel" / "list_patition_label.txt").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = demo_data_parser()
    args = parser.parse_args(argv)
    write_demo(args.out, args.layout, args.seed)
    total = sum(SPLIT_SIZES.values()) * len(CLASS_NAMES)
    print(f"demo data: {total} FER2013-layout faces, FER+ votes and a RAF-DB-layout set under {args.out}")


if __name__ == "__main__":
    main()
