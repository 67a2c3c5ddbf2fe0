"""Writing a clip's frames as ``<out>/<stem>/%06d.jpg`` (1-based, as ffmpeg's ``%06d``), atomically
per clip: frames go to a hidden temporary folder that is renamed into place when complete, so an
interrupted run never leaves a half-written clip, and a rerun skips clips already done."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

import av
import numpy as np
from PIL import Image

DONE_MARKER = ".complete"


def is_done(folder: Path) -> bool:
    return (folder / DONE_MARKER).is_file()


def write_frame_folder(folder: Path, frames: Iterable[np.ndarray], quality: int = 95) -> int:
    """Write RGB uint8 frames to ``folder`` atomically; returns the number written."""
    tmp = folder.parent / f".{folder.name}.partial"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    count = 0
    try:
        for count, frame in enumerate(frames, start=1):
            Image.fromarray(frame).save(tmp / f"{count:06d}.jpg", quality=quality)
        (tmp / DONE_MARKER).write_text(f"{count}\n")
        if folder.exists():
            if any(folder.iterdir()) and not (folder / DONE_MARKER).is_file():
                raise SystemExit(f"error: {folder} exists and was not written by this tool (no {DONE_MARKER}); "
                                 "it is left untouched: move it away or choose another output folder")
            shutil.rmtree(folder)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return count


def decode_all(path: Path):
    """Every frame of a video as RGB uint8 (PyAV)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            yield frame.to_ndarray(format="rgb24")
