"""EmotionROI exactly as unzipped (see ../shared/FORMATS.md):

    EmotionROI/images/<emotion>/<n>.jpg
    EmotionROI/ground_truth/<emotion>/<n>.jpg          grayscale 0..255, same size as the image
    EmotionROI/training_testing_split/{training,testing}.txt   "anger/1.jpg" per line

Every listed file is checked when the dataset is built (existence, known emotion, map size equal
to image size, not in both lists; only image headers are read), so a broken download fails at once
with one line naming the file instead of hours into training.  Only the split lists decide what is
read: other files or folders under ``images/`` (``.ipynb_checkpoints``) are ignored.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch.utils.data import Dataset

from emotionroi_ex import EMOTIONS
from shared_utils.files import open_image

SPLIT_FILES = {"train": "training.txt", "training": "training.txt", "test": "testing.txt", "testing": "testing.txt"}


def _fail(path: Path | str, problem: str):
    raise SystemExit(f"error: {path}: {problem}")


def find_root(path: str | Path) -> Path:
    """Accept either the EmotionROI folder or its parent."""
    path = Path(path)
    if (path / "EmotionROI" / "images").is_dir() and not (path / "images").is_dir():
        path = path / "EmotionROI"
    for sub in ("images", "ground_truth", "training_testing_split"):
        if not (path / sub).is_dir():
            _fail(path / sub, "missing; expected the unzipped EmotionROI layout (images/, ground_truth/, "
                  "training_testing_split/)")
    return path


def read_split(root: str | Path, split: str) -> list[str]:
    """Relative paths listed in the split file, validated (known emotion, no duplicates)."""
    root = Path(root)
    if split not in SPLIT_FILES:
        raise SystemExit(f"error: unknown split {split!r}; use train or test")
    path = root / "training_testing_split" / SPLIT_FILES[split]
    if not path.is_file():
        _fail(path, "split file missing")
    entries, seen = [], set()
    for line_no, line in enumerate(path.read_text().splitlines(), 1):
        rel = line.strip().replace("\\", "/")
        if not rel:
            continue
        parts = rel.split("/")
        if len(parts) != 2:
            _fail(path, f"line {line_no}: expected '<emotion>/<file>.jpg', got {rel!r}")
        if parts[0] not in EMOTIONS:
            _fail(path, f"line {line_no}: unknown emotion folder {parts[0]!r} (expected one of {', '.join(EMOTIONS)})")
        if rel in seen:
            _fail(path, f"line {line_no}: {rel} listed twice")
        seen.add(rel)
        entries.append(rel)
    if not entries:
        _fail(path, "split file lists no images")
    return entries


def check_disjoint(root: Path, split: str, files: list[str]) -> None:
    """An image listed in both the training and the testing list would leak test data into training."""
    other = "test" if SPLIT_FILES[split] == "training.txt" else "train"
    if (root / "training_testing_split" / SPLIT_FILES[other]).is_file():
        shared = sorted(set(files) & set(read_split(root, other)))
        if shared:
            _fail(root / "training_testing_split", f"{shared[0]} is listed in both training.txt and testing.txt "
                  f"({len(shared)} such images)")


def image_size(path: Path) -> tuple[int, int]:
    if not path.is_file():
        _fail(path, "listed in the split file but missing")
    try:
        with Image.open(path) as img:
            return img.size
    except (UnidentifiedImageError, OSError) as exc:
        _fail(path, f"not a readable image ({exc})")


def load_rgb(path: Path) -> Image.Image:
    return open_image(path, "RGB")


def load_map(path: Path) -> Image.Image:
    return open_image(path, "L", what="stimuli map")


class EmotionROI(Dataset):
    """Items are ``(image, map, label, index)``; ``transform(image_pil, map_pil) -> (image, map)``.

    Without a transform, image and map are returned as uint8 numpy arrays (H, W, 3) and (H, W).
    """

    def __init__(self, root: str | Path, split: str, transform=None, check_sizes: bool = True):
        self.root = find_root(root)
        self.split = split
        self.files = read_split(self.root, split)  # only the split lists decide what is read
        check_disjoint(self.root, split, self.files)
        self.labels = [EMOTIONS.index(rel.split("/")[0]) for rel in self.files]
        self.transform = transform
        for rel in self.files:
            img_size = image_size(self.root / "images" / rel)
            map_size = image_size(self.root / "ground_truth" / rel)
            if check_sizes and img_size != map_size:
                _fail(self.root / "ground_truth" / rel,
                      f"map is {map_size[0]}x{map_size[1]} but its image is {img_size[0]}x{img_size[1]}")

    def __len__(self) -> int:
        return len(self.files)

    def image_path(self, index: int) -> Path:
        return self.root / "images" / self.files[index]

    def map_path(self, index: int) -> Path:
        return self.root / "ground_truth" / self.files[index]

    def load_pair(self, index: int) -> tuple[Image.Image, Image.Image]:
        return load_rgb(self.image_path(index)), load_map(self.map_path(index))

    def gt_map(self, index: int) -> np.ndarray:
        """Ground-truth map scaled to [0, 1] at native resolution (float32)."""
        return np.asarray(load_map(self.map_path(index)), dtype=np.float32) / 255.0

    def __getitem__(self, index: int):
        image, stimuli_map = self.load_pair(index)
        if self.transform is None:
            return np.asarray(image), np.asarray(stimuli_map), self.labels[index], index
        image_t, map_t = self.transform(image, stimuli_map)
        return image_t, map_t, torch.tensor(self.labels[index]), torch.tensor(index)


def mean_map(dataset: EmotionROI, size: int = 64) -> np.ndarray:
    """Average ground-truth map over ``dataset`` in normalised image coordinates (size x size, [0, 1]).

    The trivial baseline: resize it to each test image's size and predict it for every image.
    """
    total = np.zeros((size, size), np.float64)
    for index in range(len(dataset)):
        total += np.asarray(load_map(dataset.map_path(index)).resize((size, size), Image.BILINEAR), np.float64) / 255
    return (total / max(len(dataset), 1)).astype(np.float32)
