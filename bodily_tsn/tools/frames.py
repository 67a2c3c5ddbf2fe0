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


def each_clip(data_root, out: Path, verb: str, make_folder_fn, bad_errors: tuple, skip_bad: bool,
              show_progress: bool) -> dict:
    """Run ``make_folder_fn(video, folder)`` for every EmoReact clip whose ``out/<stem>`` is not done yet; a clip
    raising one of ``bad_errors`` stops the run in one line, or with ``skip_bad`` is counted and skipped.
    Returns ``{verb: n, "skipped_done": n, "bad": n}``."""
    from bodily_tsn.dataset import VIDEO_SUBDIR, check_data_root
    from shared_utils.runtime import progress

    root = check_data_root(data_root)
    videos = sorted((root / VIDEO_SUBDIR).glob("*.mp4"))
    if not videos:
        raise SystemExit(f"error: {root / VIDEO_SUBDIR}: no .mp4 clips")
    counts = {verb: 0, "skipped_done": 0, "bad": 0}
    for video in progress(videos, desc=verb, enabled=show_progress):
        folder = Path(out) / video.stem
        if is_done(folder):
            counts["skipped_done"] += 1
            continue
        try:
            make_folder_fn(video, folder)
        except bad_errors as exc:
            if not skip_bad:
                raise SystemExit(f"error: {video.name}: {exc} (pass --skip_bad to skip such clips)") from None
            counts["bad"] += 1
            continue
        counts[verb] += 1
    return counts
