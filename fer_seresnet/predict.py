"""Emotions for your own photos and videos: every face found, classified with its probabilities.

    python -m fer_seresnet.predict photo.jpg [folder/ clip.mp4 ...] [--checkpoint FILE] [--json] [--out DIR] [--cam]

Faces are found with OpenCV's bundled frontal-face detector (Haar cascade); each face, never the whole photo, is
cut out as the square ``--face-scale`` times its box (default: FER2013's own framing, ``framing.py``), turned to
grey and resized to the 48x48 the FER2013 models were trained on, then classified (centre crop, as evaluation).
``--out`` receives one annotated image per input (boxes, labels, probabilities; ``--cam``
adds each face's Grad-CAM overlay), keeping the input's relative path (``a/b.jpg`` -> ``a/b_pred.jpg``); a video
gets a prediction every ``--every`` frames, an annotated frame and a plot of the emotions over time. ``--json``
prints one JSON object per input on stdout: ``{"path": ..., "faces": [{"box": [x1, y1, x2, y2], "label": ...,
"probs": {...}}]}`` (videos: ``"frames": [{"frame": n, "time": s, "faces": [...]}]``). An input with no face is one
line on stderr and gets no output file; the exit code is then 1.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from fer_seresnet.options import predict_parser as get_args_parser
from shared_utils.cli import answer_help_first

answer_help_first(get_args_parser, __name__)

import json
import sys
from pathlib import Path, PurePosixPath

import numpy as np

from fer_seresnet.faces import (
    FacePredictor,
    plot_over_time,
    predict_image,
    predict_video,
)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm"}
MEDIA_SUFFIXES = IMAGE_SUFFIXES | VIDEO_SUFFIXES




# --------------------------------------------------------------------------- inputs
def list_inputs(paths: list[str]) -> list[tuple[Path, PurePosixPath]]:
    """(file, relative path naming its outputs) for every image or video; folders are walked."""
    out = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES)
            out += [(p, PurePosixPath(p.relative_to(path).as_posix())) for p in files]
        elif path.is_file():
            if path.suffix.lower() not in MEDIA_SUFFIXES:
                raise SystemExit(f"error: {path}: not an image or video ({', '.join(sorted(MEDIA_SUFFIXES))})")
            out.append((path, PurePosixPath(path.name)))
        else:
            raise SystemExit(f"error: {path}: no such file or folder")
    if not out:
        raise SystemExit(f"error: no images or videos in {' '.join(paths)}")
    return out


def _save_rgb(path: Path, rgb: np.ndarray) -> None:
    import cv2

    from shared_utils.files import atomic_write

    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
    if not ok:
        raise SystemExit(f"error: {path}: could not encode the annotated image")
    atomic_write(path, lambda handle: handle.write(encoded.tobytes()))


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    if args.every < 1:
        raise SystemExit("error: --every must be at least 1")
    if args.cam and not args.out:
        raise SystemExit("error: --cam draws into the annotated images: give --out DIR")
    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and not args.overwrite:
        raise SystemExit(f"error: {out} already exists; choose another --out or pass --overwrite")
    inputs = list_inputs(args.paths)
    predictor = FacePredictor(args.checkpoint, args.device, args.min_face, args.face_scale)
    missing = 0
    for path, rel in inputs:
        stem = rel.with_suffix("").as_posix()
        if path.suffix.lower() in VIDEO_SUFFIXES:
            record, annotated, (times, rows) = predict_video(predictor, path, args.every, args.cam)
            found = any(f["faces"] for f in record["frames"])
        else:
            record, annotated = predict_image(predictor, path, args.cam)
            found, times, rows = bool(record["faces"]), [], []
        if not found:
            missing += 1
            print(f"{path}: no face found", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps(record), flush=True)
        if out is not None:
            _save_rgb(out / f"{stem}_pred.jpg", annotated)
            if rows:
                plot_over_time(out / f"{stem}_emotions.png", predictor.class_names, times, rows)
        if not args.json:
            faces = record.get("faces") or next(f["faces"] for f in record["frames"] if f["faces"])
            print(f"{path}: " + "; ".join(f"{f['label']} {f['probs'][f['label']]:.2f} at {f['box']}" for f in faces))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
