"""Facial-expression datasets, decoded once into one uint8 tensor each (N, 48, 48).

Readers for the layouts users download (see ../shared/FORMATS.md):

* FER2013 ``fer2013.csv`` (``emotion,pixels,Usage``) and the ``train/ test/ <class>/*.jpg`` folder layout;
* FER+ ``fer2013new.csv`` (10 annotator votes per FER2013 row): majority label + vote distribution;
* RAF-DB basic (``EmoLabel/list_patition_label.txt`` + ``Image/aligned/<stem>_aligned.jpg``);
* any ``<root>/<class>/*.jpg`` folder set (cross-dataset tests).

Every label is mapped to FER2013's class order (``CLASS_NAMES``) so that any checkpoint can be scored on any set.
Bad input is a one-line ``SystemExit`` naming the file (and line), or, with ``skip_bad_rows``, a counted skip.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from fer_seresnet.options import dataset_parser
from shared_utils.cli import answer_help_first

answer_help_first(dataset_parser, __name__)

import csv
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from fer_seresnet.options import DATASETS, FERPLUS_MODES
from shared_utils.files import read_image
from shared_utils.splits import stratified_holdout

CLASS_NAMES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")  # FER2013 label order
NUM_CLASSES = len(CLASS_NAMES)
IMAGE_SIZE = 48
FER_PIXELS = IMAGE_SIZE * IMAGE_SIZE
USAGE_TO_SPLIT = {"Training": "train", "PublicTest": "public_test", "PrivateTest": "private_test"}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")

# Folder names used by the common re-uploads and other face datasets -> FER2013 class index.
CLASS_ALIASES = {
    "angry": 0, "anger": 0, "disgust": 1, "disgusted": 1, "fear": 2, "fearful": 2, "scared": 2,
    "happy": 3, "happiness": 3, "joy": 3, "sad": 4, "sadness": 4, "surprise": 5, "surprised": 5,
    "neutral": 6, "calm": 6,
}
# RAF-DB basic labels: 1 Surprise, 2 Fear, 3 Disgust, 4 Happiness, 5 Sadness, 6 Anger, 7 Neutral.
RAFDB_TO_FER = {1: 5, 2: 2, 3: 1, 4: 3, 5: 4, 6: 0, 7: 6}
# FER+ vote columns (after Usage, Image name), and where each lands in FER2013's order (None: not one of the 7).
FERPLUS_VOTE_COLUMNS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt",
                        "unknown", "NF")
FERPLUS_TO_FER = {"neutral": 6, "happiness": 3, "surprise": 5, "sadness": 4, "anger": 0, "disgust": 1, "fear": 2}

log = logging.getLogger("repro")


@dataclass
class FaceSplit:
    """One split in memory: ``images`` uint8 (N, H, W), ``labels`` int64 (N,), optional ``soft`` float (N, 7)."""

    images: torch.Tensor
    labels: torch.Tensor
    soft: torch.Tensor | None = None
    source: str = ""

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, index: torch.Tensor | np.ndarray) -> FaceSplit:
        index = torch.as_tensor(index, dtype=torch.long)
        soft = self.soft[index] if self.soft is not None else None
        return FaceSplit(self.images[index], self.labels[index], soft, self.source)

    def class_counts(self, num_classes: int = NUM_CLASSES) -> np.ndarray:
        return np.bincount(self.labels.numpy(), minlength=num_classes)


@dataclass
class FaceData:
    """The splits of one dataset (keys: train, public_test, private_test, test, ...) plus load statistics."""

    splits: dict[str, FaceSplit]
    name: str
    stats: dict[str, int] = field(default_factory=dict)
    class_names: tuple[str, ...] = CLASS_NAMES  # FER+ with 8 classes adds "contempt"


class FaceTensorDataset(Dataset):
    """Map-style dataset over an in-memory :class:`FaceSplit`.

    ``__getitems__`` lets the DataLoader fetch a whole batch with one tensor index instead of N Python calls,
    so the input pipeline costs microseconds per batch; augmentation runs batched afterwards (presets.py).
    """

    def __init__(self, split: FaceSplit):
        self.split = split

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, index: int):
        return self.__getitems__([index])

    def __getitems__(self, indices: list[int]):
        index = torch.as_tensor(indices, dtype=torch.long)
        item = {"image": self.split.images[index], "label": self.split.labels[index], "index": index}
        if self.split.soft is not None:
            item["soft"] = self.split.soft[index]
        return item


def collate_batch(batch):
    """Identity collate for :meth:`FaceTensorDataset.__getitems__` (already a batch); stacks single items."""
    if isinstance(batch, dict):
        return batch
    return {key: torch.cat([b[key] for b in batch]) for key in batch[0]}


# --------------------------------------------------------------------------- FER2013 CSV
def _fail(message: str) -> SystemExit:
    return SystemExit(f"error: {message}")


def read_fer2013_csv(path: str | Path, skip_bad_rows: bool = False) -> FaceData:
    """Read Kaggle ``fer2013.csv``. A bad row (wrong pixel count, non-numeric value, unknown label or usage)
    is an error naming the line, or with ``skip_bad_rows`` is skipped and counted in ``stats['bad_rows']``."""
    path = Path(path)
    if not path.is_file():
        raise _fail(f"{path}: no such file")
    images: dict[str, list[np.ndarray]] = {}
    labels: dict[str, list[int]] = {}
    rows: list[tuple[str, int]] = []  # (split, position) per data row, in file order (FER+ aligns on it)
    bad = 0
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise _fail(f"{path}: empty file")
        header = [h.strip() for h in header]
        if header[:2] != ["emotion", "pixels"]:
            raise _fail(f"{path}: expected header 'emotion,pixels,Usage', got {','.join(header)!r}")
        has_usage = len(header) > 2 and header[2] == "Usage"
        for record in reader:
            line = reader.line_num
            if not record:
                continue
            problem, pixels, label, split = _parse_fer_row(record, has_usage)
            if problem:
                if not skip_bad_rows:
                    raise _fail(f"{path}: line {line}: {problem} (pass --skip-bad-rows to skip such rows)")
                bad += 1
                rows.append(("", -1))
                continue
            images.setdefault(split, []).append(pixels)
            labels.setdefault(split, []).append(label)
            rows.append((split, len(labels[split]) - 1))
    if not labels:
        raise _fail(f"{path}: no usable rows")
    if bad:
        log.warning("%s: skipped %d bad row(s) (--skip-bad-rows)", path, bad)
    splits = {
        name: FaceSplit(torch.from_numpy(np.stack(images[name])), torch.tensor(labels[name], dtype=torch.long),
                        source=str(path))
        for name in labels
    }
    data = FaceData(splits, "fer2013", {"bad_rows": bad, "rows": len(rows)})
    data.row_index = rows  # type: ignore[attr-defined]
    return data


def _parse_fer_row(record: list[str], has_usage: bool):
    if len(record) < 2:
        return f"expected at least 2 fields, got {len(record)}", None, None, None
    emotion = record[0].strip()
    if not emotion.isdigit() or int(emotion) >= NUM_CLASSES:
        return f"unknown emotion label {emotion!r} (expected 0..6)", None, None, None
    values = record[1].split()
    if len(values) != FER_PIXELS:
        return f"expected {FER_PIXELS} pixel values, got {len(values)}", None, None, None
    try:
        pixels = np.array(values, dtype=np.int64)
    except ValueError:
        bad_value = next(v for v in values if not v.lstrip("-").isdigit())
        return f"non-numeric pixel value {bad_value[:20]!r}", None, None, None
    if pixels.min() < 0 or pixels.max() > 255:
        return "pixel value outside 0..255", None, None, None
    split = "train"
    if has_usage:
        usage = record[2].strip() if len(record) > 2 else ""
        if usage not in USAGE_TO_SPLIT:
            return f"unknown Usage {usage!r} (expected Training, PublicTest or PrivateTest)", None, None, None
        split = USAGE_TO_SPLIT[usage]
    return None, pixels.astype(np.uint8).reshape(IMAGE_SIZE, IMAGE_SIZE), int(emotion), split


# --------------------------------------------------------------------------- images and class folders
def read_gray(path: Path, size: int = IMAGE_SIZE) -> np.ndarray:
    """Decode one image as grayscale uint8 ``size`` x ``size`` (OpenCV, as the peers read FER2013's images; 16-bit
    files keep their high byte); an unreadable or truncated file is an error naming it."""
    image = read_image(path, "L", decoder="opencv")
    if image.shape != (size, size):
        image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    return image


def _class_index(folder: Path) -> int:
    key = folder.name.lower()
    if key not in CLASS_ALIASES:
        raise _fail(f"{folder}: unknown class folder {folder.name!r} (expected one of {', '.join(CLASS_NAMES)})")
    return CLASS_ALIASES[key]


def read_class_folders(root: str | Path, require_all: bool = True, size: int = IMAGE_SIZE) -> dict[str, FaceSplit]:
    """Read ``root/<class>/*.jpg``; returns one split per file-name prefix (``Training_`` -> train,
    ``PublicTest_`` -> public_test, ``PrivateTest_`` -> private_test) or ``"all"`` without prefixes.

    With ``require_all`` every FER2013 class folder must exist and hold images (missing/empty named in the error).
    """
    root = Path(root)
    if not root.is_dir():
        raise _fail(f"{root}: no such folder")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise _fail(f"{root}: no class folders (expected {', '.join(CLASS_NAMES)})")
    seen = {}
    for folder in folders:
        seen.setdefault(_class_index(folder), folder)
    if require_all:
        missing = [name for i, name in enumerate(CLASS_NAMES) if i not in seen]
        if missing:
            raise _fail(f"{root}: missing class folder(s): {', '.join(missing)}")
    images: dict[str, list[np.ndarray]] = {}
    labels: dict[str, list[int]] = {}
    for folder in folders:
        label = _class_index(folder)
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise _fail(f"{folder}: class folder holds no images")
        for file in files:
            split = "all"
            for usage, name in USAGE_TO_SPLIT.items():
                if file.name.startswith(usage + "_"):
                    split = name
                    break
            images.setdefault(split, []).append(read_gray(file, size))
            labels.setdefault(split, []).append(label)
    return {
        name: FaceSplit(torch.from_numpy(np.stack(images[name])), torch.tensor(labels[name], dtype=torch.long),
                        source=str(root))
        for name in labels
    }


def read_fer2013_folders(root: str | Path) -> FaceData:
    """FER2013 as ``root/train/<class>/`` and ``root/test/<class>/`` (either may hold any prefix)."""
    root = Path(root)
    parts = [root / "train", root / "test"]
    if not any(p.is_dir() for p in parts):
        raise _fail(f"{root}: expected fer2013.csv or train/ and test/ class folders")
    splits: dict[str, list[FaceSplit]] = {}
    for part, default in zip(parts, ("train", "public_test")):
        if not part.is_dir():
            continue
        for name, split in read_class_folders(part).items():
            splits.setdefault(default if name == "all" else name, []).append(split)
    merged = {
        name: FaceSplit(torch.cat([s.images for s in parts_]), torch.cat([s.labels for s in parts_]), source=str(root))
        for name, parts_ in splits.items()
    }
    return FaceData(merged, "fer2013", {"rows": sum(len(s) for s in merged.values())})


def load_fer2013(path: str | Path, skip_bad_rows: bool = False) -> FaceData:
    """``path``: a ``fer2013.csv`` file, a folder holding one, or a folder with ``train/`` and ``test/``."""
    path = Path(path)
    if path.is_file():
        return read_fer2013_csv(path, skip_bad_rows)
    if (path / "fer2013.csv").is_file():
        return read_fer2013_csv(path / "fer2013.csv", skip_bad_rows)
    if not path.exists():
        raise _fail(f"{path}: no such file or folder")
    return read_fer2013_folders(path)


# --------------------------------------------------------------------------- FER+


def ferplus_distribution(votes, mode: str = "majority") -> np.ndarray | None:
    """FERPlus's own label rule (microsoft/FERPlus ``src/ferplus.py``, ``_process_data`` and ``load_folders``)
    for one row of 10 vote counts in ``FERPLUS_VOTE_COLUMNS`` order: the label distribution over the 8 emotions
    (neutral ... contempt), or None when FERPlus drops the row (unknown or not a face).

    Single votes are removed first (outliers). ``majority`` keeps the top emotion only if it holds more than half
    of the remaining votes; ``probability`` / ``crossentropy`` keep up to three top emotions that together hold at
    least 75 % of the votes (and more than half of them), as FERPlus does."""
    raw = np.asarray(votes, dtype=np.float64).copy()
    raw[raw < 1.0 + np.finfo(float).eps] = 0.0
    total = raw.sum()
    emotion = np.zeros_like(raw)
    if total <= 0:
        return None
    if mode == "majority":
        if raw.max() > 0.5 * total:
            emotion[int(np.argmax(raw))] = raw.max()
        else:
            return None
    elif mode in ("probability", "crossentropy"):
        part, count, valid = 0.0, 0, True
        while part < 0.75 * total and count < 3 and valid:
            peak = raw.max()
            for i in range(len(raw)):
                if raw[i] == peak:
                    emotion[i], raw[i] = peak, 0.0
                    part += emotion[i]
                    count += 1
                    if i >= 8:  # unknown or not-a-face share the top count
                        valid = False
                        if emotion.sum() > peak:  # other emotions came before it
                            emotion[i] = 0.0
                            count -= 1
                        break
        if emotion.sum() <= 0.5 * total or count > 3:
            return None
    else:
        raise ValueError(f"unknown FER+ mode {mode!r}; choose from {', '.join(FERPLUS_MODES)}")
    if int(np.argmax(emotion)) >= 8:  # unknown or not a face
        return None
    emotion = emotion[:8]
    return emotion / emotion.sum()


def ferplus_labels(votes, mode: str = "majority", classes: int = 7) -> tuple[int, np.ndarray] | None:
    """(label, distribution) in FER2013's class order (plus contempt last with ``classes=8``), or None when the
    row is dropped; with 7 classes a row whose label is contempt is dropped (FER2013 has no contempt)."""
    if classes not in (7, 8):
        raise ValueError("--ferplus-classes must be 7 or 8")
    dist8 = ferplus_distribution(votes, mode)
    if dist8 is None:
        return None
    order = [FERPLUS_VOTE_COLUMNS.index(name) for name in CLASS_NAMES_FERPLUS_ORDER]
    if classes == 8:
        order.append(FERPLUS_VOTE_COLUMNS.index("contempt"))
    elif int(np.argmax(dist8)) == FERPLUS_VOTE_COLUMNS.index("contempt"):
        return None
    dist = dist8[order]
    if dist.sum() <= 0:
        return None
    dist = dist / dist.sum()
    return int(np.argmax(dist)), dist


def read_ferplus_votes(ferplus_csv: str | Path) -> list[tuple[str, str, list[int], int]]:
    """``(Usage, Image name, 10 votes, line number)`` per row of ``fer2013new.csv`` (no pixels needed)."""
    ferplus_csv = Path(ferplus_csv)
    if not ferplus_csv.is_file():
        raise _fail(f"{ferplus_csv}: no such file")
    with ferplus_csv.open(newline="") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, [])]
        expected = ["Usage", "Image name", *FERPLUS_VOTE_COLUMNS]
        if header != expected:
            raise _fail(f"{ferplus_csv}: expected header {','.join(expected)!r}")
        votes_rows = []
        for record in reader:
            if not record:
                continue
            if len(record) != len(expected):
                raise _fail(f"{ferplus_csv}: line {reader.line_num}: expected {len(expected)} fields, "
                            f"got {len(record)}")
            try:
                votes = [int(v) for v in record[2:]]
            except ValueError:
                raise _fail(f"{ferplus_csv}: line {reader.line_num}: non-numeric vote count") from None
            votes_rows.append((record[0].strip(), record[1].strip(), votes, reader.line_num))
    return votes_rows


def ferplus_class_names(classes: int) -> tuple[str, ...]:
    return CLASS_NAMES + (("contempt",) if classes == 8 else ())


def read_ferplus(fer_csv: str | Path, ferplus_csv: str | Path, skip_bad_rows: bool = False, mode: str = "majority",
                 classes: int = 7) -> FaceData:
    """FER2013 pixels with FER+ labels made as FERPlus makes them (:func:`ferplus_labels`): ``soft`` holds the
    label distribution (one-hot for ``majority``). Rows without an image name (not a face) and rows FERPlus drops
    (unknown, not a face, and with 7 classes contempt) are counted in ``stats``. ``fer_csv`` may be a prefix of
    the full file (rows are aligned by position)."""
    fer = read_fer2013_csv(fer_csv, skip_bad_rows)
    votes_rows = read_ferplus_votes(ferplus_csv)
    rows = fer.row_index  # type: ignore[attr-defined]
    if len(rows) > len(votes_rows):
        raise _fail(f"{ferplus_csv}: has {len(votes_rows)} rows but {fer_csv} has {len(rows)}; they must align")
    keep: dict[str, list[int]] = {}
    soft: dict[str, list[np.ndarray]] = {}
    not_face = dropped = 0
    for (split, position), (usage, image_name, votes, line) in zip(rows, votes_rows):
        if position < 0:
            continue
        if USAGE_TO_SPLIT.get(usage) != split:
            raise _fail(f"{ferplus_csv}: line {line}: Usage {usage!r} does not match the FER2013 row's split")
        if not image_name:
            not_face += 1
            continue
        labelled = ferplus_labels(votes, mode, classes)
        if labelled is None:
            dropped += 1
            continue
        keep.setdefault(split, []).append(position)
        soft.setdefault(split, []).append(labelled[1])
    if not_face or dropped:
        log.info("%s: dropped %d not-face rows and %d rows FERPlus's %s rule leaves without a label", ferplus_csv,
                 not_face, dropped, mode)
    splits = {}
    for split, positions in keep.items():
        base = fer.splits[split]
        dist = torch.from_numpy(np.stack(soft[split]).astype(np.float32))
        splits[split] = FaceSplit(base.images[positions], dist.argmax(1), dist, source=str(ferplus_csv))
    if not splits:
        raise _fail(f"{ferplus_csv}: no usable rows")
    stats = {"not_face": not_face, "no_fer_class": dropped, "bad_rows": fer.stats.get("bad_rows", 0)}
    return FaceData(splits, "ferplus", stats, ferplus_class_names(classes))


# FER2013 class order spelled with FER+ column names.
CLASS_NAMES_FERPLUS_ORDER = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")


# --------------------------------------------------------------------------- RAF-DB
def read_rafdb(root: str | Path, size: int = IMAGE_SIZE) -> FaceData:
    """RAF-DB basic: ``root/EmoLabel/list_patition_label.txt`` (or ``root/list_patition_label.txt``) and
    ``root/Image/aligned/<stem>_aligned.jpg``; grayscale, resized to ``size``; labels in FER2013 order."""
    root = Path(root)
    label_file = next((p for p in (root / "EmoLabel" / "list_patition_label.txt", root / "list_patition_label.txt")
                       if p.is_file()), None)
    if label_file is None:
        raise _fail(f"{root}: no EmoLabel/list_patition_label.txt")
    image_dir = root / "Image" / "aligned"
    if not image_dir.is_dir():
        raise _fail(f"{image_dir}: no such folder (RAF-DB aligned images)")
    images: dict[str, list[np.ndarray]] = {}
    labels: dict[str, list[int]] = {}
    for line_number, line in enumerate(label_file.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit() or int(parts[1]) not in RAFDB_TO_FER:
            raise _fail(f"{label_file}: line {line_number}: expected '<name>.jpg <label 1..7>', got {line!r}")
        name, raf_label = parts[0], int(parts[1])
        split = "train" if name.startswith("train") else "test"
        image_path = image_dir / f"{Path(name).stem}_aligned{Path(name).suffix}"
        if not image_path.is_file():
            raise _fail(f"{image_path}: listed in {label_file} line {line_number} but missing")
        images.setdefault(split, []).append(read_gray(image_path, size))
        labels.setdefault(split, []).append(RAFDB_TO_FER[raf_label])
    splits = {
        name: FaceSplit(torch.from_numpy(np.stack(images[name])), torch.tensor(labels[name], dtype=torch.long),
                        source=str(root))
        for name in labels
    }
    return FaceData(splits, "rafdb", {"rows": sum(len(v) for v in labels.values())})


def read_generic_folders(root: str | Path) -> FaceData:
    """Any ``root/<class>/*.jpg`` face set (class names as in ``CLASS_ALIASES``; missing classes allowed)."""
    splits = read_class_folders(root, require_all=False)
    merged = FaceSplit(torch.cat([s.images for s in splits.values()]), torch.cat([s.labels for s in splits.values()]),
                       source=str(root))
    return FaceData({"test": merged}, "folder", {"rows": len(merged)})


# --------------------------------------------------------------------------- one entry point


def load_dataset(name: str, path: str | Path, ferplus_csv: str | Path | None = None,
                 skip_bad_rows: bool = False, ferplus_mode: str = "majority", ferplus_classes: int = 7) -> FaceData:
    if name == "fer2013":
        return load_fer2013(path, skip_bad_rows)
    if name == "ferplus":
        if ferplus_csv is None:
            raise _fail("--dataset ferplus needs --ferplus-csv PATH/fer2013new.csv")
        fer_csv = Path(path)
        if fer_csv.is_dir():
            fer_csv = fer_csv / "fer2013.csv"
        return read_ferplus(fer_csv, ferplus_csv, skip_bad_rows, ferplus_mode, ferplus_classes)
    if name == "rafdb":
        return read_rafdb(path)
    if name == "folder":
        return read_generic_folders(path)
    raise _fail(f"unknown dataset {name!r} (choose from {', '.join(DATASETS)})")


def train_val_test(data: FaceData, val_source: str = "auto", holdout_fraction: float = 0.1,
                   seed: int = 0) -> tuple[FaceSplit, FaceSplit, FaceSplit, str, str]:
    """Choose (train, val, test, val_name, test_name).

    ``auto``: with PrivateTest present, val = PublicTest and test = PrivateTest (the standard protocol); without
    it, val = a fixed seeded ``holdout_fraction`` of the training split (stratified) and test = PublicTest, so the
    reported split is never used for checkpoint choice.  ``holdout`` forces the latter.
    RAF-DB / generic sets: val = holdout of train, test = test.
    """
    splits = data.splits
    if "train" not in splits:
        raise _fail(f"{data.name}: no training split found")
    test_name = "private_test" if "private_test" in splits else ("public_test" if "public_test" in splits else "test")
    if val_source not in ("auto", "holdout", "public_test"):
        raise _fail(f"unknown --val-source {val_source!r}")
    if val_source == "public_test" or (val_source == "auto" and test_name == "private_test"):
        if "public_test" not in splits:
            raise _fail(f"{data.name}: --val-source public_test but the data has no PublicTest split")
        if test_name == "public_test":
            raise _fail(f"{data.name}: PublicTest cannot be both the validation and the test split")
        return splits["train"], splits["public_test"], splits[test_name], "public_test", test_name
    if test_name not in splits:
        raise _fail(f"{data.name}: no test split found")
    train_index, val_index = stratified_holdout(splits["train"].labels.numpy(), holdout_fraction, seed)
    train = splits["train"]
    return train.subset(train_index), train.subset(val_index), splits[test_name], "train_holdout", test_name


# --------------------------------------------------------------------------- duplicates across splits
def train_duplicates(test: FaceSplit, train: FaceSplit) -> tuple[np.ndarray, np.ndarray]:
    """Masks over ``test``: images with an exact pixel copy in ``train``, and among them those whose label is the
    label of none of their copies (FER2013 has such pairs: 280 PublicTest images, 7 of them relabelled)."""
    labels_by_image: dict[bytes, set[int]] = {}
    for image, label in zip(train.images.numpy(), train.labels.tolist()):
        labels_by_image.setdefault(hashlib.sha1(image.tobytes()).digest(), set()).add(int(label))
    duplicate = np.zeros(len(test), bool)
    other_label = np.zeros(len(test), bool)
    for n, (image, label) in enumerate(zip(test.images.numpy(), test.labels.tolist())):
        copies = labels_by_image.get(hashlib.sha1(image.tobytes()).digest())
        if copies is not None:
            duplicate[n], other_label[n] = True, int(label) not in copies
    return duplicate, other_label


# --------------------------------------------------------------------------- describe
def describe_counts(dataset: str, path: str | Path | None = None, ferplus_csv: str | Path | None = None,
                    ferplus_mode: str = "majority", ferplus_classes: int = 7) -> tuple[tuple[str, ...], dict]:
    """(class names, {split: per-class counts}) of a dataset; FER+ from ``fer2013new.csv`` alone (no pixels),
    split names as its ``Usage`` column spells them."""
    if dataset == "ferplus":
        if ferplus_csv is None:
            raise _fail("describe --dataset ferplus needs --ferplus-csv PATH/fer2013new.csv")
        names = ferplus_class_names(ferplus_classes)
        counts: dict[str, np.ndarray] = {}
        for usage, image_name, votes, _line in read_ferplus_votes(ferplus_csv):
            labelled = ferplus_labels(votes, ferplus_mode, ferplus_classes) if image_name else None
            if labelled is not None:
                counts.setdefault(usage, np.zeros(len(names), np.int64))[labelled[0]] += 1
        return names, counts
    if path is None:
        raise _fail(f"describe --dataset {dataset} needs --data-path")
    data = load_dataset(dataset, path)
    return data.class_names, {name: split.class_counts(len(data.class_names)) for name, split in data.splits.items()}


def main(argv: list[str] | None = None) -> None:

    parser = dataset_parser()
    args = parser.parse_args(argv)
    names, counts = describe_counts(args.dataset, args.data_path, args.ferplus_csv, args.ferplus_mode,
                                    args.ferplus_classes)
    width = max(len(n) for n in names)
    print(f"{'split':14s} {'rows':>7s}  " + " ".join(f"{n:>{width}s}" for n in names))
    for split, row in counts.items():
        print(f"{split:14s} {int(row.sum()):7d}  " + " ".join(f"{int(v):>{width}d}" for v in row))


if __name__ == "__main__":
    main()
