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


def read_image(path: str | Path, mode: str = "RGB") -> np.ndarray:
    """Decode an image with PIL into a uint8 array (HxWx3 for RGB, HxW for L)."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert(mode))
    except FileNotFoundError:
        raise SystemExit(f"error: image {path} does not exist") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise SystemExit(f"error: cannot read image {path}: {type(exc).__name__}: {exc}") from None
