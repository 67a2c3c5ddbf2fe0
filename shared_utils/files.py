"""Files in and out: inputs read with errors a person can act on (the path and the problem, in one line), outputs
written atomically (never half-written under the final name), demo-or-real data told apart by one marker file."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def make_folder(folder: str | Path) -> Path:
    """``mkdir -p`` whose failure is one line naming what is in the way (a file where a folder should be)."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocking = next((p for p in [folder, *folder.parents] if p.exists() and not p.is_dir()), folder)
        raise SystemExit(f"error: cannot create folder {folder}: {blocking} is a file, not a folder") from None
    except PermissionError:
        raise SystemExit(f"error: cannot create folder {folder}: permission denied") from None
    return folder


def atomic_write(path: str | Path, write_fn) -> None:
    """Call ``write_fn(file_object)`` on a temporary file beside ``path``, fsync it, then rename.

    If anything fails (or the process dies) midway, ``path`` still holds its previous content and
    the temporary file is removed (or, after a hard kill, left under a ``.tmp`` name, never ``path``).
    """
    path = Path(path)
    make_folder(path.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp_name, 0o666 & ~_current_umask())  # mkstemp makes 0600; give the usual file mode
        with os.fdopen(fd, "wb") as handle:
            write_fn(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write_text(path: str | Path, text: str) -> None:
    """:func:`atomic_write` for text (UTF-8): CSV, JSON, YAML, Markdown."""
    data = text.encode()
    atomic_write(path, lambda handle: handle.write(data))


def atomic_write_csv(path: str | Path, header: list[str], rows) -> None:
    """A header row and data rows written as one CSV file, atomically."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())


def require_path(path: str | Path, what: str, hint: str = "", kind: str = "any") -> Path:
    """Return ``path`` if it exists (as a file / folder when ``kind`` says so), else exit with
    ``error: <what> not found at <path>; <hint>``."""
    path = Path(path)
    ok = path.is_file() if kind == "file" else path.is_dir() if kind == "dir" else path.exists()
    if not ok:
        noun = {"file": "file", "dir": "folder"}.get(kind, "path")
        raise SystemExit(f"error: {what} not found at {path} (no such {noun})" + (f"; {hint}" if hint else ""))
    return path


def pil_convert(image, mode: str):
    """``image.convert(mode)`` that keeps 16-bit greyscale PNGs: PIL's own convert clips them to 255 (an all-white
    picture). 16-bit values (``I;16``, or ``I`` above 255) keep their high byte; float images in [0, 1] are scaled."""
    from PIL import Image

    if image.mode.startswith("I"):
        values = np.asarray(image).astype(np.int64)
        if image.mode.startswith("I;16") or values.max() > 255:
            values = values >> 8
        image = Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), "L")
    elif image.mode == "F":
        values = np.asarray(image).astype(np.float64)
        values = values * 255.0 if values.max() <= 1.0 else values
        image = Image.fromarray(np.clip(np.round(values), 0, 255).astype(np.uint8), "L")
    return image.convert(mode)


def read_image(path: str | Path, mode: str = "RGB", decoder: str = "pil") -> np.ndarray:
    """Decode an image into a uint8 array (HxWx3 for RGB, HxW for L).

    ``decoder="opencv"`` decodes as ``cv2.imread`` does, which applies the EXIF orientation (PIL does not):
    for reproductions whose original read its images with OpenCV."""
    path = Path(path)
    if decoder == "opencv":
        import cv2

        if not path.is_file():
            raise SystemExit(f"error: image {path} does not exist")
        data = path.read_bytes()
        if data[:2] == b"\xff\xd8" and not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
            # libjpeg fills a cut-off JPEG with grey rows and only warns, naming no file
            raise SystemExit(f"error: cannot read image {path}: the JPEG is truncated (no end-of-image marker)")
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE if mode == "L" else cv2.IMREAD_COLOR)
        if image is None:
            raise SystemExit(f"error: cannot read image {path}: OpenCV could not decode it")
        return image if mode == "L" else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return np.asarray(open_image(path, mode))


def open_image(path: str | Path, mode: str = "RGB", what: str = "image"):
    """A decoded PIL image in ``mode`` (16-bit kept, see :func:`pil_convert`); a missing or unreadable file is one
    line naming it (``what``: image, map, ...)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return pil_convert(image, mode)
    except FileNotFoundError:
        raise SystemExit(f"error: {what} {path} does not exist") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise SystemExit(f"error: cannot read {what} {path}: {type(exc).__name__}: {exc}") from None


DEMO_MARKER = "DEMO_DATA.txt"
# A `reproduce` output folder holds this: its runs were made by a reproduction and may be replaced by the next one;
# a folder without it (a user's runs) is never written into by a reproduction.
REPRODUCE_MARKER = "REPRODUCE_RUNS.txt"
def resolve_data_kind(data_path: str | Path, marker: str = DEMO_MARKER) -> str:
    """"demo" or "real", from the data itself, never from an option: a demo generator's marker in the data folder or
    up to three folders above it (a generator's root holds several datasets) makes it demo, so a run on demo data is
    never recorded as a real result."""
    path = Path(data_path)
    start = path if path.is_dir() else path.parent
    marked = next((folder / marker for folder in [start, *list(start.resolve().parents)[:3]]
                   if (folder / marker).is_file()), None)
    return "demo" if marked else "real"


def claim_output_folder(folder: str | Path, what: str, marker: str = DEMO_MARKER) -> Path:
    """For a generator: ``folder`` must not exist, be empty, or hold ``marker`` (so it was made by a generator
    before); anything else (a user's data root, say) is refused in one line and left untouched. The marker is
    written first, so a folder left half-written by an interrupted run is still recognised as the generator's."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise SystemExit(f"error: {folder} is a file; {what} writes a folder there")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / marker).is_file():
        raise SystemExit(f"error: {folder} is not empty and was not made by {what} (no {marker}); it is left "
                         "untouched: give an empty or new folder")
    make_folder(folder)
    if not (folder / marker).is_file():
        (folder / marker).write_text(f"made by {what} (in progress)\n")
    return folder


@contextlib.contextmanager
def claimed_output_folder(folder: str | Path, what: str, marker: str = DEMO_MARKER):
    """:func:`claim_output_folder` for a block of work: if the block fails (a bad option, missing weights) while
    the folder this call created holds nothing but the marker, the folder goes again, so a refused command leaves
    nothing behind."""
    folder = Path(folder)
    created = not folder.exists()
    claim_output_folder(folder, what, marker)
    try:
        yield folder
    except BaseException:
        if created and [entry.name for entry in folder.iterdir()] == [marker]:
            shutil.rmtree(folder)
        raise
