"""Reading inputs with errors a person can act on: the path and the problem, in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np


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
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return np.asarray(pil_convert(image, mode))
    except FileNotFoundError:
        raise SystemExit(f"error: image {path} does not exist") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise SystemExit(f"error: cannot read image {path}: {type(exc).__name__}: {exc}") from None


DEMO_MARKER = "DEMO_DATA.txt"
DATA_KINDS = ("auto", "real", "demo")
DATA_KIND_HELP = "auto: demo if the data (or a folder up to 3 above) holds DEMO_DATA.txt, else real; in results.json"


def resolve_data_kind(data_path: str | Path, requested: str = "auto", marker: str = DEMO_MARKER) -> str:
    """"demo" or "real", from the data itself: a demo generator's marker in the data folder or up to three folders
    above it (a generator's root holds several datasets) makes it demo. ``requested`` "real" on marked data is refused:
    a run on demo data is never recorded as a real result."""
    path = Path(data_path)
    start = path if path.is_dir() else path.parent
    marked = next((folder / marker for folder in [start, *list(start.resolve().parents)[:3]]
                   if (folder / marker).is_file()), None)
    if requested == "auto":
        return "demo" if marked else "real"
    if requested == "real" and marked:
        raise SystemExit(f"error: {path} is demo data ({marked} says so); it is never recorded as real")
    if requested not in ("real", "demo"):
        raise SystemExit(f"error: data kind {requested!r} is not one of {', '.join(DATA_KINDS)}")
    return requested


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
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / marker).is_file():
        (folder / marker).write_text(f"made by {what} (in progress)\n")
    return folder
