"""EmoReact clips as TSN inputs: segment sampling, face / body / full-body crops, face + body fusion.

On-disk layout (``../shared/FORMATS.md``), ``root`` being the EmoReact folder, as the original's
``EmoReact/dataset.py`` (nkegke/deep-affective-bodily-expression-recognition) reads it::

    root/Data/AllVideos/<video>                              # H.264 mp4 (dataset.py:228)
    root/Data/AllVideos/<video>_openface/<video stem>.csv    # OpenFace 2.x, one row per frame (:113)
    <holistic_dir>/<video stem>_hol.txt                      # MediaPipe Holistic, 3N lines (:121)
    root/Data{_mask}/{Train,Validation,Test}{_mask}/<stem>{_mask}_frames_full/%06d.jpg
                                                             # the frames it trains on (:236-241)
    <frames_dir>/<video stem>/%06d.jpg                       # or frames from tools.vid2img_emoreact

Official EmoReact names keep an apostrophe (``80'sTOYS105_2.mp4``) that the label CSVs drop: every file
is found under either spelling.

Everything a clip needs (frame count, per-frame face and body boxes, landmarks for the masked
variant) is read and checked when the dataset is built, so bad input fails before training starts,
with one line naming the file; ``skip_bad=True`` skips such clips and counts them instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
import pandas as pd
import torch
from PIL import Image
from torch.utils.data import Dataset

from bodily_tsn.masking import draw_surgical_mask
from bodily_tsn.options import INPUTS, LABELS, MISSING_BOX, PACKAGE_DIR
from shared_utils.runtime import LOGGER_NAME, progress

VIDEO_SUBDIR = Path("Data") / "AllVideos"
HOLISTIC_SUBDIR = Path("Holistic")
SPLIT_FOLDERS = {"train": "Train", "val": "Validation", "test": "Test"}  # original dataset.py:236-241
SPLITS_DIR = PACKAGE_DIR / "EmoReact"  # the original's train/val/test.csv, shipped with the package
NUM_LANDMARKS = 68
BOX_MARGIN = 0.10  # each side, as a fraction of the box's width / height
log = logging.getLogger(LOGGER_NAME)


class BadClipError(Exception):
    """A clip whose files cannot be used; the message names the file and the problem."""


# --------------------------------------------------------------------------- label CSVs
@dataclass
class ClipRecord:
    video: str
    labels: np.ndarray  # (8,) float32 in {0, 1}
    valence: float

    @property
    def stem(self) -> str:
        return Path(self.video).stem


def read_split_csv(path: str | Path) -> list[ClipRecord]:
    """``,video,Curiosity,...,Frustration,Valence`` (first column a pandas index)."""
    path = Path(path)
    if not path.is_file():
        raise SystemExit(f"error: {path}: label CSV not found")
    try:
        table = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise SystemExit(f"error: {path}: not a readable CSV ({exc})") from None
    missing = [c for c in ["video", *LABELS, "Valence"] if c not in table.columns]
    if missing:
        raise SystemExit(f"error: {path}: missing column(s) {', '.join(missing)}")
    labels = table[LABELS].to_numpy()
    if not np.isin(labels, (0, 1)).all():
        raise SystemExit(f"error: {path}: label columns must hold only 0 or 1")
    valence = pd.to_numeric(table["Valence"], errors="coerce").to_numpy(dtype=np.float64)
    if np.isnan(valence).any():
        rows = ", ".join(str(i + 2) for i in np.flatnonzero(np.isnan(valence))[:5])  # +2: header, 1-based
        raise SystemExit(f"error: {path}: empty or non-numeric Valence value(s) (line {rows})")
    return [
        ClipRecord(str(video), labels[i].astype(np.float32), float(valence[i]))
        for i, video in enumerate(table["video"])
    ]


# --------------------------------------------------------------------------- landmarks and boxes
def read_openface(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OpenFace 2.x CSV -> ``(xs (F, 68), ys (F, 68), detected (F,) bool)`` in pixels, row = frame."""
    path = Path(path)
    x_cols = [f"x_{i}" for i in range(NUM_LANDMARKS)]
    y_cols = [f"y_{i}" for i in range(NUM_LANDMARKS)]
    wanted = {"success", *x_cols, *y_cols}
    try:
        # The header has a space after each comma; only the 137 needed of the 431 columns are parsed.
        table = pd.read_csv(path, skipinitialspace=True, usecols=lambda name: str(name).strip() in wanted)
    except FileNotFoundError:
        raise BadClipError(f"{path}: OpenFace landmark file not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise BadClipError(f"{path}: not a readable OpenFace CSV ({exc})") from None
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in ["success", *x_cols, *y_cols] if c not in table.columns]
    if missing:
        shown = ", ".join(missing[:4]) + (" ..." if len(missing) > 4 else "")
        raise BadClipError(f"{path}: missing OpenFace column(s) {shown}")
    try:
        xs = table[x_cols].to_numpy(dtype=np.float64)
        ys = table[y_cols].to_numpy(dtype=np.float64)
        success = table["success"].to_numpy(dtype=np.float64)
    except ValueError as exc:
        raise BadClipError(f"{path}: non-numeric landmark values ({exc})") from None
    detected = (success > 0.5) & np.isfinite(xs).all(1) & np.isfinite(ys).all(1)
    return xs, ys, detected


def read_holistic(path: str | Path, num_frames: int) -> list[np.ndarray]:
    """The pose section of a MediaPipe Holistic text file, one ``(K, 2)`` array of normalised points per
    frame (``K = 0`` where nothing was seen).

    The original's ``prepare_hol_txt.py`` (lines 19-48) writes N pose lines, then N left-hand and N
    right-hand lines (a hand section is left out when MediaPipe returned none for the clip); only the pose
    section is the body. N is the section length nearest the clip's ``num_frames``."""
    path = Path(path)
    if not path.is_file():
        raise BadClipError(f"{path}: Holistic pose file not found")
    lines = path.read_text().splitlines()
    sections = [k for k in (3, 2, 1) if lines and len(lines) % k == 0]
    if not sections:
        raise BadClipError(f"{path}: empty Holistic file")
    pose_lines = len(lines) // min(sections, key=lambda k: (abs(len(lines) // k - num_frames), -k))
    frames = []
    for line_no, line in enumerate(lines[:pose_lines], start=1):
        fields = line.split()
        if len(fields) % 2:
            raise BadClipError(f"{path}: line {line_no} has an odd number of values ({len(fields)})")
        try:
            values = np.array([float(v) for v in fields], dtype=np.float64)
        except ValueError:
            raise BadClipError(f"{path}: line {line_no} holds a non-numeric value") from None
        frames.append(values.reshape(-1, 2))
    return frames


def clamp_rows(rows: int, num_frames: int) -> np.ndarray:
    """Row of each frame: a file shorter than the clip repeats its last row, as the original does
    (``dataset.py:131-132``: ``if idx >= len(keypoints): idx = len(keypoints) - 1``)."""
    return np.minimum(np.arange(num_frames), rows - 1)


def expand_box(box: np.ndarray, margin: float, width: int, height: int) -> np.ndarray:
    """Grow ``[x1, y1, x2, y2]`` by ``margin`` of its size on each side, clamped to the image."""
    x1, y1, x2, y2 = box
    dx, dy = (x2 - x1) * margin, (y2 - y1) * margin
    return np.array([max(0.0, x1 - dx), max(0.0, y1 - dy), min(float(width), x2 + dx), min(float(height), y2 + dy)])


def face_boxes(xs, ys, detected, width, height, margin=BOX_MARGIN) -> np.ndarray:
    """(F, 4) landmark boxes + margin; NaN rows where OpenFace found no face."""
    boxes = np.full((len(xs), 4), np.nan)
    for i in np.flatnonzero(detected):
        raw = np.array([xs[i].min(), ys[i].min(), xs[i].max(), ys[i].max()])
        boxes[i] = expand_box(raw, margin, width, height)
    return boxes


def body_boxes(points: list[np.ndarray], width, height, margin=BOX_MARGIN) -> np.ndarray:
    """(F, 4) pose boxes (normalised points times the frame size) + margin; NaN where none."""
    boxes = np.full((len(points), 4), np.nan)
    for i, pts in enumerate(points):
        if len(pts):
            raw = np.array([pts[:, 0].min() * width, pts[:, 1].min() * height,
                            pts[:, 0].max() * width, pts[:, 1].max() * height])
            box = expand_box(raw, margin, width, height)
            if box[2] - box[0] >= 2 and box[3] - box[1] >= 2:
                boxes[i] = box
    return boxes


def nearest_detected(valid: np.ndarray) -> np.ndarray | None:
    """For each frame, the index of the nearest frame with a detection (None when there is none)."""
    found = np.flatnonzero(valid)
    if found.size == 0:
        return None
    frames = np.arange(len(valid))
    pos = np.clip(np.searchsorted(found, frames), 1, max(found.size - 1, 1))
    left, right = found[pos - 1], found[np.minimum(pos, found.size - 1)]
    return np.where(np.abs(frames - left) <= np.abs(right - frames), left, right)


def fill_boxes(boxes: np.ndarray, width: int, height: int, what: str, source: Path, missing: str) -> np.ndarray:
    """Frames with no detection: ``frame`` leaves their box NaN, so the crop is the whole frame (and no face
    is blacked out), as the original (``dataset.py:159-173``); ``nearest`` reuses the nearest detected
    frame's box, and a clip with none at all falls back to the full frame (with a warning)."""
    if missing == "frame":
        return boxes
    nearest = nearest_detected(~np.isnan(boxes).any(1))
    if nearest is None:
        log.warning("warning: %s: no %s detected in any frame; using the full frame", source, what)
        return np.tile(np.array([0.0, 0.0, float(width), float(height)]), (len(boxes), 1))
    return boxes[nearest]


# --------------------------------------------------------------------------- video decoding
def video_info(path: str | Path) -> tuple[int, int, int]:
    """``(num_frames, width, height)`` from the container; counts packets when the header has no count."""
    path = Path(path)
    if not path.is_file():
        raise BadClipError(f"{path}: video file not found")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise BadClipError(f"{path}: no video stream")
            stream = container.streams.video[0]
            count = int(stream.frames or 0)
            width, height = stream.codec_context.width, stream.codec_context.height
            if count <= 0:
                count = sum(1 for packet in container.demux(stream) if packet.size > 0)
    except av.error.FFmpegError as exc:
        raise BadClipError(f"{path}: unreadable video ({exc})") from None
    if count <= 0 or width <= 0 or height <= 0:
        raise BadClipError(f"{path}: video has no frames")
    return count, width, height


def read_video_frames(path: str | Path, indices, seek_threshold: int = 48) -> list[np.ndarray]:
    """Decode only what is needed for the 0-based frame ``indices``: RGB uint8 arrays, in the order
    asked. Before each wanted frame that lies more than ``seek_threshold`` frames past the decoder's
    position, seek to the keyframe before it; stop after the last; convert only wanted frames. An
    index past the real end (headers that over-count) gets the last frame."""
    path = Path(path)
    wanted = sorted({int(i) for i in indices})
    got: dict[int, np.ndarray] = {}
    last_frame, position, seeked = None, -1, False
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            rate = stream.average_rate or stream.guessed_rate
            base = float(stream.time_base) if stream.time_base else 0.0
            start = stream.start_time or 0
            can_seek = bool(rate) and base > 0
            decoder = None
            for target in wanted:
                if target in got:
                    continue
                if can_seek and target - position > seek_threshold and target >= seek_threshold:
                    pts = start + int((target - 2) / float(rate) / base)
                    container.seek(max(pts, start), stream=stream, backward=True, any_frame=False)
                    decoder, seeked = container.decode(stream), True
                elif decoder is None:
                    decoder = container.decode(stream)
                for frame in decoder:
                    if seeked and frame.pts is not None:  # after a seek, frame numbers come from timestamps
                        position = int(round((frame.pts - start) * base * float(rate)))
                    else:
                        position += 1
                    last_frame = frame
                    if position in wanted and position not in got:
                        got[position] = frame.to_ndarray(format="rgb24")
                    if position >= target:
                        break
                else:
                    break  # end of stream
    except av.error.FFmpegError as exc:
        raise BadClipError(f"{path}: cannot decode video ({exc})") from None
    if last_frame is None:
        raise BadClipError(f"{path}: video has no decodable frames")
    missing = [i for i in wanted if i not in got]
    if missing:
        if seeked and min(missing) < position:
            # Timestamps did not line up with frame numbers (variable frame rate): decode from the start.
            return read_video_frames(path, indices, seek_threshold=10**9)
        tail = last_frame.to_ndarray(format="rgb24")
        for i in missing:
            got[i] = tail
    return [got[int(i)] for i in indices]


def frame_folder_count(folder: Path) -> int:
    return len(list(folder.glob("[0-9][0-9][0-9][0-9][0-9][0-9].jpg")))


def frame_size(folder: Path) -> tuple[int, int]:
    """(width, height) of a clip's first extracted frame, from its header only (indexing decodes no pixels)."""
    path = folder / "000001.jpg"
    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, ValueError) as exc:
        raise BadClipError(f"{path}: cannot read frame ({exc})") from None


def read_folder_frames(folder: Path, indices) -> list[np.ndarray]:
    frames = []
    for i in indices:
        path = folder / f"{int(i) + 1:06d}.jpg"
        try:
            with Image.open(path) as image:
                frames.append(np.asarray(image.convert("RGB")))
        except (OSError, ValueError) as exc:
            raise BadClipError(f"{path}: cannot read frame ({exc})") from None
    return frames


# --------------------------------------------------------------------------- sampling and crops
def segment_indices(num_frames: int, num_segments: int, train: bool, generator: torch.Generator | None = None):
    """TSN sampling: split the clip into ``num_segments`` equal segments and take a random frame of
    each (training) or each segment's centre (evaluation). Short clips repeat frames."""
    edges = np.arange(num_segments + 1) * (num_frames / num_segments)
    if train:
        offsets = torch.rand(num_segments, generator=generator).numpy()
    else:
        offsets = np.full(num_segments, 0.5)
    indices = np.floor(edges[:-1] + offsets * (edges[1:] - edges[:-1])).astype(np.int64)
    return np.clip(indices, 0, num_frames - 1)


def crop(image: np.ndarray, box: np.ndarray) -> np.ndarray:
    """The box's pixels; the whole image for a NaN box (no detection in that frame)."""
    if np.isnan(box).any():
        return image
    height, width = image.shape[:2]
    x1, y1 = int(np.clip(np.floor(box[0]), 0, width - 1)), int(np.clip(np.floor(box[1]), 0, height - 1))
    x2, y2 = int(np.clip(np.ceil(box[2]), x1 + 1, width)), int(np.clip(np.ceil(box[3]), y1 + 1, height))
    return image[y1:y2, x1:x2]


def black_out(image: np.ndarray, box: np.ndarray) -> np.ndarray:
    if np.isnan(box).any():
        return image
    out = image.copy()
    height, width = image.shape[:2]
    x1, y1 = int(max(0, np.floor(box[0]))), int(max(0, np.floor(box[1])))
    x2, y2 = int(min(width, np.ceil(box[2]))), int(min(height, np.ceil(box[3])))
    out[y1:y2, x1:x2] = 0
    return out


def find_file(folder: Path, name: str) -> Path:
    """``folder / name``, or the file whose name is ``name`` with apostrophes (``80'sTOYS105_2.mp4`` for the
    label CSVs' ``80sTOYS105_2.mp4``); the plain path when neither exists (the caller reports it)."""
    path = folder / name
    if path.exists() or not folder.is_dir():
        return path
    spelled = _apostrophe_index(folder).get(name)
    return folder / spelled if spelled else path


_APOSTROPHE_INDEX: dict[Path, dict[str, str]] = {}


def _apostrophe_index(folder: Path) -> dict[str, str]:
    if folder not in _APOSTROPHE_INDEX:
        _APOSTROPHE_INDEX[folder] = {p.name.replace("'", ""): p.name for p in folder.iterdir() if "'" in p.name}
    return _APOSTROPHE_INDEX[folder]


def original_frames_folder(root: Path, split: str, stem: str, mask: bool) -> Path:
    """``root/Data{_mask}/{Train,Validation,Test}{_mask}/<stem>{_mask}_frames_full`` (original dataset.py:236-241)."""
    suffix = "_mask" if mask else ""
    parent = root / f"Data{suffix}" / f"{SPLIT_FOLDERS[split]}{suffix}"
    return find_file(parent, f"{stem}{suffix}_frames_full")


def stream_names(input_kind: str) -> list[str]:
    return ["face", "body"] if input_kind == "fusion" else [input_kind]


# --------------------------------------------------------------------------- the dataset
@dataclass
class ClipMeta:
    record: ClipRecord
    video: Path
    num_frames: int
    width: int
    height: int
    face: np.ndarray | None = None  # (F, 4) filled boxes
    body: np.ndarray | None = None
    landmarks: tuple[np.ndarray, np.ndarray] | None = None  # (xs, ys) of the nearest detected frame
    frames_folder: Path | None = None
    extra: dict = field(default_factory=dict)


class EmoReactClips(Dataset):
    """One item per clip: ``{"frames": (S, T, 3, H, W), "labels": (8,), "valence": (), "index": ()}``
    with S = 1 stream (face, body or fullbody) or 2 (fusion: face, body).

    ``source``: ``original`` reads the frames the original trains on (``Data{_mask}/...``, the masked ones
    with ``mask``), ``mp4`` decodes the clip, ``auto`` takes the original frames when the split's folder
    exists; ``frames_dir`` reads ``<frames_dir>/<stem>/%06d.jpg`` instead. ``draw_mask`` draws a surgical
    mask from the landmarks on whatever frames are read.
    """

    def __init__(
        self,
        root: str | Path,
        split_csv: str | Path,
        input_kind: str = "face",
        num_segments: int = 5,
        train: bool = False,
        transform=None,
        mask: bool = False,
        frames_dir: str | Path | None = None,
        skip_bad: bool = False,
        limit: int | None = None,
        show_progress: bool = True,
        split: str | None = None,
        source: str = "auto",
        holistic_dir: str | Path | None = None,
        draw_mask: bool = False,
        missing_box: str = "frame",
    ):
        if input_kind not in INPUTS:
            raise ValueError(f"input_kind must be one of {INPUTS}, got {input_kind!r}")
        if missing_box not in MISSING_BOX:
            raise ValueError(f"missing_box must be one of {MISSING_BOX}, got {missing_box!r}")
        self.root = Path(root)
        self.input_kind, self.num_segments, self.train = input_kind, int(num_segments), bool(train)
        self.transform, self.mask, self.draw_mask = transform, bool(mask), bool(draw_mask)
        self.missing_box = missing_box
        self.split = split or ("train" if train else Path(split_csv).stem)
        self.frames_dir = Path(frames_dir) if frames_dir else None
        self.holistic_dir = Path(holistic_dir) if holistic_dir else self.root / HOLISTIC_SUBDIR
        self.source = self._choose_source(source)
        self.streams = stream_names(input_kind)
        records = read_split_csv(split_csv)[:limit]
        self.clips: list[ClipMeta] = []
        self.skipped: list[str] = []
        self.clamped: dict[str, int] = {"openface": 0, "holistic": 0}  # frames past a file's last row
        for record in progress(records, desc=f"index {Path(split_csv).name}", enabled=show_progress):
            try:
                self.clips.append(self._index_clip(record))
            except BadClipError as exc:
                if not skip_bad:
                    raise SystemExit(f"error: {exc} (pass --skip_bad to skip such clips)") from None
                self.skipped.append(str(exc))
        if self.skipped:
            log.warning("warning: %s: skipped %d of %d clips with bad input; first: %s",
                        split_csv, len(self.skipped), len(records), self.skipped[0])
        for kind, count in self.clamped.items():
            if count:
                log.info("%s: %d frame(s) past the end of their %s file use its last row (as the original)",
                         Path(split_csv).name, count, kind)
        if not self.clips:
            raise SystemExit(f"error: {split_csv}: no usable clips")
        self.labels = np.stack([c.record.labels for c in self.clips])
        self.valence = np.array([c.record.valence for c in self.clips], dtype=np.float32)

    def _choose_source(self, source: str) -> str:
        if self.frames_dir is not None:
            return "frames_dir"
        suffix = "_mask" if self.mask else ""
        folder = self.root / f"Data{suffix}" / f"{SPLIT_FOLDERS.get(self.split, self.split)}{suffix}"
        if source == "auto":
            source = "original" if folder.is_dir() else "mp4"
        if source == "original" and not folder.is_dir():
            raise SystemExit(f"error: {folder}: no extracted frames for the {self.split} split (the original's "
                             "layout); extract them or use --source mp4")
        if source == "mp4" and self.mask:
            raise SystemExit(f"error: --mask reads the authors' masked frames ({folder}/<stem>_mask_frames_full/); "
                             "for mp4 input draw the mask from the landmarks with --draw_mask")
        if source not in ("original", "mp4"):
            raise ValueError(f"source must be auto, original or mp4, got {source!r}")
        return source

    # Which annotation files this input kind needs.
    @property
    def needs_face(self) -> bool:
        return self.input_kind in ("face", "body", "fusion") or self.draw_mask

    @property
    def needs_body(self) -> bool:
        return self.input_kind in ("body", "fullbody", "fusion")

    def _frames_folder(self, record: ClipRecord) -> Path | None:
        if self.source == "frames_dir":
            return find_file(self.frames_dir, record.stem)
        if self.source == "original":
            return original_frames_folder(self.root, self.split, record.stem, self.mask)
        return None

    def _index_clip(self, record: ClipRecord) -> ClipMeta:
        videos = self.root / VIDEO_SUBDIR
        video = find_file(videos, record.video)
        folder = self._frames_folder(record)
        if folder is not None:
            num_frames = frame_folder_count(folder)
            if num_frames == 0:
                raise BadClipError(f"{folder}: no extracted frames (000001.jpg ...)")
            width, height = frame_size(folder)
        else:
            num_frames, width, height = video_info(video)
        meta = ClipMeta(record, video, num_frames, width, height, frames_folder=folder)
        if self.needs_face:
            csv_path = find_file(find_file(videos, f"{video.name}_openface"), f"{video.stem}.csv")
            xs, ys, detected = read_openface(csv_path)
            if len(xs) == 0:
                raise BadClipError(f"{csv_path}: no landmark rows")
            rows = clamp_rows(len(xs), num_frames)
            self.clamped["openface"] += int(max(0, num_frames - len(xs)))
            xs, ys, detected = xs[rows], ys[rows], detected[rows]
            meta.face = fill_boxes(face_boxes(xs, ys, detected, width, height), width, height, "face", csv_path,
                                   self.missing_box)
            nearest = nearest_detected(detected)
            if nearest is not None:
                meta.landmarks = (xs[nearest].astype(np.float32), ys[nearest].astype(np.float32))
        if self.needs_body:
            hol_path = find_file(self.holistic_dir, f"{video.stem}_hol.txt")
            points = read_holistic(hol_path, num_frames)
            if not points:
                raise BadClipError(f"{hol_path}: no pose lines")
            self.clamped["holistic"] += int(max(0, num_frames - len(points)))
            points = [points[i] for i in clamp_rows(len(points), num_frames)]
            meta.body = fill_boxes(body_boxes(points, width, height), width, height, "body", hol_path,
                                   self.missing_box)
        return meta

    def __len__(self) -> int:
        return len(self.clips)

    def sample_indices(self, index: int) -> np.ndarray:
        return segment_indices(self.clips[index].num_frames, self.num_segments, self.train)

    def load_frames(self, meta: ClipMeta, indices: np.ndarray) -> list[np.ndarray]:
        try:
            if meta.frames_folder is not None:
                return read_folder_frames(meta.frames_folder, indices)
            return read_video_frames(meta.video, indices)
        except BadClipError as exc:
            if torch.utils.data.get_worker_info() is not None:
                raise  # a DataLoader worker re-raises exceptions in the main process, but not SystemExit
            raise SystemExit(f"error: {exc}") from None

    def crops(self, index: int, indices: np.ndarray) -> dict[str, list[np.ndarray]]:
        """The un-transformed crops of every stream for the given frame indices."""
        meta = self.clips[index]
        frames = self.load_frames(meta, indices)
        out: dict[str, list[np.ndarray]] = {name: [] for name in self.streams}
        for frame_index, image in zip(indices, frames):
            if self.draw_mask and meta.landmarks is not None:
                xs, ys = meta.landmarks
                image = draw_surgical_mask(image, xs[frame_index], ys[frame_index])
            for name in self.streams:
                if name == "face":
                    out[name].append(crop(image, meta.face[frame_index]))
                elif name == "body":  # body stream: the face is blacked out so only the body speaks
                    out[name].append(crop(black_out(image, meta.face[frame_index]), meta.body[frame_index]))
                else:  # fullbody keeps the face
                    out[name].append(crop(image, meta.body[frame_index]))
        return out

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        indices = self.sample_indices(index)
        streams = self.crops(index, indices)
        if self.transform is None:
            raise RuntimeError("EmoReactClips needs a transform to build tensors (see bodily_tsn.presets)")
        frames = self.transform([streams[name] for name in self.streams])  # (S, T, 3, H, W)
        meta = self.clips[index]
        return {
            "frames": frames,
            "labels": torch.from_numpy(meta.record.labels),
            "valence": torch.tensor(meta.record.valence, dtype=torch.float32),
            "index": torch.tensor(index),
        }


def split_paths(split_dir: str | Path | None, root: Path) -> dict[str, Path]:
    """train/val/test.csv: from ``split_dir``, else DATA_ROOT when it holds them, else the package's copy."""
    if split_dir:
        folder = Path(split_dir)
    elif all((root / f"{s}.csv").is_file() for s in ("train", "val", "test")):
        folder = root
    else:
        folder = SPLITS_DIR
    return {s: folder / f"{s}.csv" for s in ("train", "val", "test")}


def dataset_options(args, show_progress: bool) -> dict:
    """The EmoReactClips options a run's args set. An args.yaml written before --source existed meant by
    --mask a mask drawn on mp4 frames and reused the nearest detected box: it is read that way."""
    if not hasattr(args, "source"):
        return dict(mask=False, draw_mask=args.mask, source="mp4", missing_box="nearest", holistic_dir=None,
                    frames_dir=args.frames_dir, skip_bad=args.skip_bad, show_progress=show_progress)
    return dict(mask=args.mask, draw_mask=args.draw_mask, source=args.source, missing_box=args.missing_box,
                holistic_dir=args.holistic_dir, frames_dir=args.frames_dir, skip_bad=args.skip_bad,
                show_progress=show_progress)


def check_data_root(root: str | Path) -> Path:
    """The dataset folder, or one clear error saying where the data goes and how to make demo data."""
    root = Path(root)
    if not (root / VIDEO_SUBDIR).is_dir():
        raise SystemExit(
            f"error: no EmoReact data at {root} (expected {root / VIDEO_SUBDIR}/<video>.mp4 with OpenFace "
            f"CSVs, {root}/Data/Train/<stem>_frames_full/ frames and {root / HOLISTIC_SUBDIR}/<stem>_hol.txt); "
            "put the dataset there or pass --data_root DIR, "
            "or make demo data: python -m bodily_tsn.demo_data --out data/EmoReact_demo "
            "and pass --data_root data/EmoReact_demo"
        )
    return root


# --------------------------------------------------------------------------- a user's own video
def clip_from_video(path: str | Path, input_kind: str, num_segments: int, face_detector=None):
    """Crops of every stream for a video with no OpenFace / MediaPipe files (the bodily page): the TSN test-time
    frames (the middle of each segment); the face box from ``face_detector(frame) -> box or None`` (the largest
    face), the body box the whole frame, which is what the original uses for a frame its landmark files do not
    cover (``--missing_box frame``). Returns ``(frame indices, {stream: [crops]})``."""
    path = Path(path)
    num_frames, width, height = video_info(path)
    if num_frames < 1:
        raise BadClipError(f"{path}: no frames")
    indices = segment_indices(num_frames, num_segments, train=False)
    frames = read_video_frames(path, indices)
    whole = np.array([0, 0, width, height], dtype=np.float64)
    out: dict[str, list[np.ndarray]] = {name: [] for name in stream_names(input_kind)}
    for image in frames:
        face = face_detector(image) if face_detector is not None else None
        face = np.asarray(face, dtype=np.float64) if face is not None else np.full(4, np.nan)
        for name in out:
            if name == "face":
                out[name].append(crop(image, face))
            elif name == "body":  # the face blacked out so only the body speaks, as in training
                out[name].append(crop(black_out(image, face), whole))
            else:
                out[name].append(image)
    return indices, out
