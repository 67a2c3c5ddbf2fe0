"""EMOTIC annotations (``Annotations.mat`` and the PyTorch port's CSVs), the streamed array cache, and datasets.

Layout read (see ``../shared/FORMATS.md``)::

    <data_dir>/emotic/{ade20k,emodb_small,framesdb,mscoco}/...images...
    <data_dir>/Annotations/Annotations.mat           # keys train / val / test, 1xN struct arrays of images

One sample is one annotated *person*: the whole image is the context, the clamped body box the body.
Train persons carry one annotator's labels; val/test persons carry per-annotator labels and the
``combined_*`` labels, which are the ones used for evaluation (as in the authors' code and the port).
"""

from __future__ import annotations

import ast
import csv
import io
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from emotic_context.options import PORT_BODY_SIZE, PORT_CONTEXT_SIZE
from shared_utils.files import make_folder, read_image

CATEGORIES = (
    "Affection", "Anger", "Annoyance", "Anticipation", "Aversion", "Confidence", "Disapproval", "Disconnection",
    "Disquietment", "Doubt/Confusion", "Embarrassment", "Engagement", "Esteem", "Excitement", "Fatigue", "Fear",
    "Happiness", "Pain", "Peace", "Pleasure", "Sadness", "Sensitivity", "Suffering", "Surprise", "Sympathy",
    "Yearning",
)
CAT2IDX = {name: i for i, name in enumerate(CATEGORIES)}
VAD_NAMES = ("valence", "arousal", "dominance")
SPLITS = ("train", "val", "test")
PORT_CSV_COLUMNS = ["Index", "Folder", "Filename", "Image Size", "BBox", "Categorical_Labels", "Continuous_Labels",
                    "Gender", "Age"]
# The port stores VAD on 1..10 and trains on VAD / 10; predictions are multiplied back by 10.
VAD_SCALE = 10.0


@dataclass
class EmoticPerson:
    folder: str
    filename: str
    image_size: tuple[int, int]  # (n_col, n_row) = (width, height), the port's "Image Size" order
    bbox: tuple[int, int, int, int]  # x1 y1 x2 y2, clamped to the image
    categories: list[str]
    continuous: tuple[float, float, float]  # valence, arousal, dominance on 1..10
    gender: str = ""
    age: str = ""
    annotators: int = 1
    annotator_categories: list[list[str]] = field(default_factory=list)

    @property
    def relative_path(self) -> str:
        return f"{self.folder}/{self.filename}"

    def multi_hot(self) -> np.ndarray:
        return categories_to_multi_hot(self.categories)


def categories_to_multi_hot(names: Iterable[str]) -> np.ndarray:
    out = np.zeros(len(CATEGORIES), dtype=np.float32)
    for name in names:
        out[CAT2IDX[name]] = 1.0
    return out


# --------------------------------------------------------------------------- MATLAB struct reading
# scipy returns MATLAB structs differently depending on squeeze_me / struct_as_record; these helpers
# accept every form (structured ndarray, np.void, mat_struct, 0-d and 1x1 wrappers) so the reader
# does not depend on how the file was loaded.
def _records(value) -> list:
    """The struct elements in ``value`` (a struct array, a single struct, or a cell holding structs)."""
    if value is None:
        return []
    if isinstance(value, np.void) or hasattr(value, "_fieldnames"):
        return [value]
    if isinstance(value, np.ndarray):
        if value.dtype.names:
            return [value.reshape(-1)[i] for i in range(value.size)]
        if value.dtype == object:
            out = []
            for item in value.reshape(-1):
                out += _records(item)
            return out
    return []


def _fields(record) -> tuple[str, ...]:
    if hasattr(record, "_fieldnames"):
        return tuple(record._fieldnames)
    return tuple(record.dtype.names or ())


def _get(record, name: str):
    if hasattr(record, "_fieldnames"):
        return getattr(record, name)
    return record[name]


def _strings(value) -> list[str]:
    """Every string inside ``value`` (a str, a char array, or cells of them), in order."""
    if value is None:
        return []
    if isinstance(value, (str, np.str_)):
        return [str(value)] if str(value) != "" else []
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "U":
            return [str(s) for s in value.reshape(-1) if str(s) != ""]
        if value.dtype == object:
            out = []
            for item in value.reshape(-1):
                out += _strings(item)
            return out
    return []


def _string(value) -> str:
    strings = _strings(value)
    return strings[0] if strings else ""


def _floats(value) -> np.ndarray:
    if isinstance(value, np.ndarray) and value.dtype == object:
        parts = [_floats(v) for v in value.reshape(-1)]
        return np.concatenate(parts) if parts else np.zeros(0)
    try:
        return np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        return np.zeros(0)


def _scalar(value) -> float:
    values = _floats(value)
    return float(values[0]) if values.size else float("nan")


def _vad(struct_value) -> tuple[float, float, float]:
    records = _records(struct_value)
    if not records:
        return (float("nan"),) * 3
    return tuple(_scalar(_get(records[0], name)) if name in _fields(records[0]) else float("nan")
                 for name in VAD_NAMES)


def clamp_bbox(bbox: Sequence[float], width: int, height: int) -> tuple[int, int, int, int]:
    """Clamp [x1 y1 x2 y2] to the image (EMOTIC boxes may exceed it) and truncate to int, as the port does."""
    x1, y1, x2, y2 = (float(v) for v in bbox)
    x1, x2 = min(width, max(0.0, x1)), min(width, max(0.0, x2))
    y1, y2 = min(height, max(0.0, y1)), min(height, max(0.0, y2))
    return int(x1), int(y1), int(x2), int(y2)


def _check_categories(names: list[str], source: str) -> None:
    unknown = [n for n in names if n not in CAT2IDX]
    if unknown:
        raise SystemExit(f"error: {source}: unknown EMOTIC category {unknown[0]!r}")


def persons_from_split(split_struct, source: str = "Annotations.mat", drop_no_category: bool = False
                       ) -> tuple[list[EmoticPerson], Counter]:
    """Read one split's 1xN image struct array; return the kept persons and the counts of dropped ones by reason.

    The port's rules (``mat2py.py``): a train person has one annotator (an empty category cell gives no
    category: kept, all-zero labels; :45-49); a val/test person is dropped when it has no category or no
    continuous annotator (:104, :126, :196), kept with no category when its ``combined_categories`` is empty
    (:112-116); a NaN valence/arousal/dominance drops it (:56-60, :134-138), and so does an empty body box
    (its crop fails, :188-195). ``drop_no_category`` also drops persons with no category (not the port's)."""
    persons: list[EmoticPerson] = []
    dropped: Counter = Counter()
    for image_index, image in enumerate(_records(split_struct)):
        names = _fields(image)
        missing = [f for f in ("filename", "folder", "image_size", "person") if f not in names]
        if missing:
            raise SystemExit(f"error: {source}: image {image_index} has no field {missing[0]!r} "
                             f"(fields: {', '.join(names)})")
        filename, folder = _string(_get(image, "filename")), _string(_get(image, "folder"))
        size_records = _records(_get(image, "image_size"))
        if not size_records:
            raise SystemExit(f"error: {source}: image {image_index} ({filename}) has an empty image_size")
        width = int(_scalar(_get(size_records[0], "n_col")))
        height = int(_scalar(_get(size_records[0], "n_row")))
        for person in _records(_get(image, "person")):
            fields = _fields(person)
            combined = "combined_categories" in fields  # val/test layout
            bbox = clamp_bbox(_floats(_get(person, "body_bbox"))[:4], width, height)
            annotator_cats = [_strings(_get(r, "categories")) for r in _records(_get(person, "annotations_categories"))]
            if combined:
                if not annotator_cats or not _records(_get(person, "annotations_continuous")):
                    dropped["no category or continuous annotator"] += 1
                    continue
                categories = _strings(_get(person, "combined_categories"))
                continuous = _vad(_get(person, "combined_continuous"))
            else:
                categories = annotator_cats[0] if annotator_cats else []
                continuous = _vad(_get(person, "annotations_continuous"))
            categories = list(dict.fromkeys(categories))  # de-duplicate, keep order
            if not categories and drop_no_category:
                dropped["no categories (--drop_no_category)"] += 1
                continue
            if any(np.isnan(v) for v in continuous):
                dropped["NaN valence/arousal/dominance"] += 1
                continue
            if bbox[2] <= bbox[0] or bbox[3] <= bbox[1]:
                dropped["empty body box after clamping to the image"] += 1
                continue
            _check_categories(categories, source)
            persons.append(EmoticPerson(
                folder=folder, filename=filename, image_size=(width, height), bbox=bbox, categories=categories,
                continuous=continuous,
                gender=_string(_get(person, "gender")) if "gender" in fields else "",
                age=_string(_get(person, "age")) if "age" in fields else "",
                annotators=max(1, len(annotator_cats)), annotator_categories=annotator_cats,
            ))
    return persons, dropped


def load_annotations_mat(path: str | Path, splits: Sequence[str] = SPLITS, squeeze_me: bool = False,
                         drop_no_category: bool = False) -> dict[str, tuple[list[EmoticPerson], Counter]]:
    """``{split: (persons, dropped_counts)}`` from the official ``Annotations.mat``."""
    from scipy.io import loadmat

    path = Path(path)
    if not path.is_file():
        raise SystemExit(f"error: {path}: annotation file not found (expected <data_dir>/Annotations/Annotations.mat)")
    try:
        mat = loadmat(str(path), squeeze_me=squeeze_me)
    except Exception as exc:  # scipy raises several types for a bad file
        raise SystemExit(f"error: {path}: not a readable MATLAB file ({type(exc).__name__}: {exc})") from None
    out = {}
    for split in splits:
        if split not in mat:
            raise SystemExit(f"error: {path}: no '{split}' struct array (keys: "
                             f"{', '.join(k for k in mat if not k.startswith('__'))})")
        out[split] = persons_from_split(mat[split], source=str(path), drop_no_category=drop_no_category)
    return out


# --------------------------------------------------------------------------- the port's CSV format
def _csv_text(persons: Sequence[EmoticPerson]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, dialect="excel")
    writer.writerow(PORT_CSV_COLUMNS)
    for index, p in enumerate(persons):
        writer.writerow([index, p.folder, p.filename, list(p.image_size), list(p.bbox), list(p.categories),
                         [float(v) for v in p.continuous], p.gender, p.age])
    return buffer.getvalue()


def write_port_csv(path: str | Path, persons: Sequence[EmoticPerson]) -> Path:
    from shared_utils.files import atomic_write_text

    text = _csv_text(persons)
    atomic_write_text(Path(path), text)
    return Path(path)


def read_port_csv(path: str | Path) -> list[EmoticPerson]:
    """Persons from a port-format CSV (list cells as Python literals)."""
    path = Path(path)
    if not path.is_file():
        raise SystemExit(f"error: {path}: CSV not found")
    persons = []
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in PORT_CSV_COLUMNS[1:7] if c not in (reader.fieldnames or [])]
        if missing:
            raise SystemExit(f"error: {path}: missing column {missing[0]!r} (expected {','.join(PORT_CSV_COLUMNS)})")
        for line, row in enumerate(reader, start=2):
            try:
                size = [int(v) for v in ast.literal_eval(row["Image Size"])]
                bbox = [int(float(v)) for v in ast.literal_eval(row["BBox"])]
                cats = [str(c) for c in ast.literal_eval(row["Categorical_Labels"])]
                cont = [float(v) for v in ast.literal_eval(row["Continuous_Labels"])]
            except (ValueError, SyntaxError, TypeError) as exc:
                raise SystemExit(f"error: {path}: line {line}: cannot parse a list cell ({exc})") from None
            if len(size) != 2 or len(bbox) != 4 or len(cont) != 3:
                raise SystemExit(f"error: {path}: line {line}: expected 2 image-size values, 4 box values and "
                                 "3 continuous values")  # no category ([]) is allowed: the port writes such rows
            _check_categories(cats, f"{path}: line {line}")
            persons.append(EmoticPerson(
                folder=row["Folder"], filename=row["Filename"], image_size=(size[0], size[1]),
                bbox=clamp_bbox(bbox, size[0], size[1]), categories=cats, continuous=tuple(cont),
                gender=row.get("Gender", "") or "", age=row.get("Age", "") or "",
            ))
    return persons


# --------------------------------------------------------------------------- images and crops
def read_rgb(path: str | Path) -> np.ndarray:
    """HxWx3 uint8 RGB decoded as the port does (``cv2.imread``, mat2py.py:187: EXIF orientation applied);
    a missing or undecodable file is one clear error naming it."""
    return read_image(path, "RGB", decoder="opencv")


def context_and_body(image: np.ndarray, bbox: Sequence[int], context_size: int, body_size: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The port's preprocessing: whole image resized square, body crop resized square (cv2 bilinear)."""
    height, width = image.shape[:2]
    x1, y1, x2, y2 = clamp_bbox(bbox, width, height)
    if x2 <= x1 or y2 <= y1:
        raise ValueError(f"empty body box {list(bbox)} for an image of {width}x{height}")
    body = image[y1:y2, x1:x2]
    context = cv2.resize(image, (context_size, context_size), interpolation=cv2.INTER_LINEAR)
    body = cv2.resize(np.ascontiguousarray(body), (body_size, body_size), interpolation=cv2.INTER_LINEAR)
    return context, body


def normalized_box(bbox: Sequence[int], image_size: Sequence[int]) -> np.ndarray:
    width, height = image_size
    return np.array([bbox[0] / width, bbox[1] / height, bbox[2] / width, bbox[3] / height], dtype=np.float32)


def black_out_person(context: np.ndarray, box01: Sequence[float]) -> np.ndarray:
    """Zero the person's box in a (resized) context image, for a context stream that cannot see the body."""
    size_y, size_x = context.shape[:2]
    x1, x2 = int(np.floor(box01[0] * size_x)), int(np.ceil(box01[2] * size_x))
    y1, y2 = int(np.floor(box01[1] * size_y)), int(np.ceil(box01[3] * size_y))
    out = context.copy()
    out[max(0, y1):y2, max(0, x1):x2] = 0
    return out


# --------------------------------------------------------------------------- streamed cache
CACHE_ARRAYS = ("context", "body", "cat", "cont", "bbox")


def cache_path(cache_dir: str | Path, split: str, name: str) -> Path:
    """The port's file names: ``<split>_<name>_arr.npy`` (``bbox`` is ours: normalised boxes for masking)."""
    return Path(cache_dir) / f"{split}_{name}_arr.npy"


class _NpyStreamWriter:
    """Write a C-order .npy of known shape one row at a time, so memory never holds the whole array.

    Rows go to a temporary file renamed into place by :meth:`commit`; :meth:`abort` removes it.
    """

    def __init__(self, path: Path, shape: tuple[int, ...], dtype):
        self.path, self.shape, self.dtype = Path(path), shape, np.dtype(dtype)
        self.tmp = self.path.with_name(f".{self.path.name}.partial")
        self.handle = self.tmp.open("wb")
        header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_1_0(self.handle, header)
        self.rows = 0

    def write(self, row: np.ndarray) -> None:
        row = np.ascontiguousarray(row, dtype=self.dtype)
        if row.shape != self.shape[1:]:
            raise ValueError(f"{self.path.name}: row shape {row.shape} != {self.shape[1:]}")
        self.handle.write(row.tobytes())
        self.rows += 1

    def commit(self) -> None:
        if self.rows != self.shape[0]:
            raise RuntimeError(f"{self.path}: wrote {self.rows} rows, expected {self.shape[0]}")
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        if not self.handle.closed:
            self.handle.close()
        self.tmp.unlink(missing_ok=True)


def write_cache(persons: Sequence[EmoticPerson], image_root: str | Path, cache_dir: str | Path, split: str,
                context_size: int = PORT_CONTEXT_SIZE, body_size: int = PORT_BODY_SIZE, progress_fn=None) -> int:
    """Write the port's ``<split>_{context,body,cat,cont}_arr.npy`` (+ ``bbox``) streaming, one person at a time.

    Peak memory is one decoded image plus one row of each array, whatever the number of persons
    (the port collects every resized image in a Python list first: ~3.5 GB for the training split).
    Each image is decoded once for all its persons. Any failure removes the partial files.
    """
    image_root, cache_dir = Path(image_root), Path(cache_dir)
    make_folder(cache_dir)
    n = len(persons)
    shapes = {
        "context": ((n, context_size, context_size, 3), np.uint8),
        "body": ((n, body_size, body_size, 3), np.uint8),
        "cat": ((n, len(CATEGORIES)), np.float32),
        "cont": ((n, 3), np.float32),
        "bbox": ((n, 4), np.float32),
    }
    writers = {}
    try:
        for name, (shape, dtype) in shapes.items():
            writers[name] = _NpyStreamWriter(cache_path(cache_dir, split, name), shape, dtype)
        last_path, image = None, None
        iterator = progress_fn(persons) if progress_fn else persons
        for person in iterator:
            path = image_root / person.folder / person.filename
            if path != last_path:
                image, last_path = read_rgb(path), path
            try:
                context, body = context_and_body(image, person.bbox, context_size, body_size)
            except ValueError as exc:
                raise SystemExit(f"error: {path}: {exc}") from None
            writers["context"].write(context)
            writers["body"].write(body)
            writers["cat"].write(person.multi_hot())
            writers["cont"].write(np.asarray(person.continuous, dtype=np.float32))
            writers["bbox"].write(normalized_box(person.bbox, (image.shape[1], image.shape[0])))
        for writer in writers.values():
            writer.commit()
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise
    return n


# --------------------------------------------------------------------------- datasets
class EmoticCacheDataset(Dataset):
    """Samples from the npy cache (memory-mapped: the arrays are never loaded whole).

    Returns ``(context, body, cat_multi_hot, vad / 10)``; the port's own npy files (no bbox array)
    work too, except with ``mask_body``.
    """

    def __init__(self, cache_dir: str | Path, split: str, context_transform, body_transform, mask_body: bool = False):
        self.arrays = {}
        for name in CACHE_ARRAYS:
            path = cache_path(cache_dir, split, name)
            if not path.is_file():
                if name == "bbox" and not mask_body:
                    continue
                raise SystemExit(f"error: {path}: cache file not found (run mat2py.py --generate_npy first)")
            try:
                self.arrays[name] = np.load(path, mmap_mode="r")
            except ValueError as exc:
                raise SystemExit(f"error: {path}: not a readable .npy file ({exc})") from None
        lengths = {name: len(a) for name, a in self.arrays.items()}
        if len(set(lengths.values())) != 1:
            raise SystemExit(f"error: {cache_dir}: {split} cache arrays disagree in length: {lengths}")
        self.context_transform, self.body_transform, self.mask_body = context_transform, body_transform, mask_body

    def __len__(self) -> int:
        return len(self.arrays["cat"])

    @property
    def cat_labels(self) -> np.ndarray:
        return np.asarray(self.arrays["cat"], dtype=np.float32)

    @property
    def cont_labels(self) -> np.ndarray:
        return np.asarray(self.arrays["cont"], dtype=np.float32)

    def __getitem__(self, index: int):
        context = np.array(self.arrays["context"][index])
        if self.mask_body:
            context = black_out_person(context, self.arrays["bbox"][index])
        body = np.array(self.arrays["body"][index])
        return _sample(context, body, self.arrays["cat"][index], self.arrays["cont"][index],
                       self.context_transform, self.body_transform)


class EmoticImageDataset(Dataset):
    """Samples read and cropped on the fly from the images (no cache), same output as :class:`EmoticCacheDataset`."""

    def __init__(self, persons: Sequence[EmoticPerson], image_root: str | Path, context_transform, body_transform,
                 context_size: int = PORT_CONTEXT_SIZE, body_size: int = PORT_BODY_SIZE, mask_body: bool = False):
        self.persons, self.image_root = list(persons), Path(image_root)
        missing = [p for p in self.persons if not (self.image_root / p.folder / p.filename).is_file()]
        if missing:
            raise SystemExit(f"error: {self.image_root / missing[0].relative_path}: image not found "
                             f"({len(missing)} of {len(self.persons)} images missing)")
        self.context_transform, self.body_transform = context_transform, body_transform
        self.context_size, self.body_size, self.mask_body = context_size, body_size, mask_body

    def __len__(self) -> int:
        return len(self.persons)

    @property
    def cat_labels(self) -> np.ndarray:
        return np.stack([p.multi_hot() for p in self.persons]) if self.persons else np.zeros((0, len(CATEGORIES)))

    @property
    def cont_labels(self) -> np.ndarray:
        return np.asarray([p.continuous for p in self.persons], dtype=np.float32).reshape(-1, 3)

    def __getitem__(self, index: int):
        person = self.persons[index]
        path = self.image_root / person.folder / person.filename
        image = read_rgb(path)
        try:
            context, body = context_and_body(image, person.bbox, self.context_size, self.body_size)
        except ValueError as exc:
            raise SystemExit(f"error: {path}: {exc}") from None
        if self.mask_body:
            context = black_out_person(context, normalized_box(person.bbox, (image.shape[1], image.shape[0])))
        return _sample(context, body, person.multi_hot(), np.asarray(person.continuous, np.float32),
                       self.context_transform, self.body_transform)


def _sample(context, body, cat, cont, context_transform, body_transform):
    return (context_transform(Image.fromarray(context)), body_transform(Image.fromarray(body)),
            torch.tensor(np.asarray(cat, dtype=np.float32)),
            torch.tensor(np.asarray(cont, dtype=np.float32) / VAD_SCALE))

