"""Build the masked-face variant: every frame with a surgical-mask-shaped occluder drawn over the
lower face (nose bridge to chin) from the clip's OpenFace landmarks, as ``<out>/<stem>/%06d.jpg``.

    python -m bodily_tsn.tools.mask_faces --data_root data/EmoReact --out data/EmoReact/frames_mask \
        [--frames_dir data/EmoReact/frames]

Frames come from ``--frames_dir`` when given, else straight from the mp4. A frame where OpenFace
found no face uses the nearest detected frame's landmarks; a clip with no detection at all is
copied unmasked (with a warning). Idempotent: finished clips are skipped. Train on the result with
``--frames_dir <out>`` (and without ``--mask``, which would draw a second mask).
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from bodily_tsn.options import mask_faces_parser
from shared_utils.cli import answer_help_first

answer_help_first(mask_faces_parser, __name__)

import logging
from pathlib import Path

import numpy as np
from PIL import Image

from bodily_tsn.dataset import VIDEO_SUBDIR, BadClipError, check_data_root, nearest_detected, read_openface
from bodily_tsn.masking import draw_surgical_mask
from bodily_tsn.tools.frames import decode_all, each_clip, write_frame_folder
from shared_utils.runtime import LOGGER_NAME

log = logging.getLogger(LOGGER_NAME)


def _frames(video: Path, frames_dir: Path | None):
    if frames_dir is None:
        yield from decode_all(video)
        return
    folder = frames_dir / video.stem
    paths = sorted(folder.glob("[0-9][0-9][0-9][0-9][0-9][0-9].jpg"))
    if not paths:
        raise BadClipError(f"{folder}: no extracted frames")
    for path in paths:
        with Image.open(path) as image:
            yield np.asarray(image.convert("RGB"))


def mask_clip(video: Path, csv_path: Path, frames_dir: Path | None, folder: Path) -> int:
    xs, ys, detected = read_openface(csv_path)
    nearest = nearest_detected(detected)
    if nearest is None:
        log.warning("warning: %s: no face detected in any frame; frames copied unmasked", csv_path)

    def masked():
        for i, frame in enumerate(_frames(video, frames_dir)):
            if i >= len(xs):
                raise BadClipError(f"{csv_path}: {len(xs)} landmark rows but {video} has more frames")
            yield frame if nearest is None else draw_surgical_mask(frame, xs[nearest[i]], ys[nearest[i]])

    return write_frame_folder(folder, masked())


def build_masked(data_root, out, frames_dir=None, skip_bad=False, show_progress=True) -> dict:
    root = check_data_root(data_root)
    frames_dir = Path(frames_dir) if frames_dir else None

    def mask_one(video: Path, folder: Path) -> None:
        mask_clip(video, root / VIDEO_SUBDIR / f"{video.name}_openface" / f"{video.stem}.csv", frames_dir, folder)

    return each_clip(root, out, "masked", mask_one, (BadClipError,), skip_bad, show_progress)


def main(argv=None) -> None:
    parser = mask_faces_parser()
    args = parser.parse_args(argv)
    if args.frames_dir and Path(args.out).resolve() == Path(args.frames_dir).resolve():
        parser.error("--out must differ from --frames_dir: the masked frames would be written over their sources "
                     "and every clip would count as already done")
    print(build_masked(args.data_root, args.out, args.frames_dir, args.skip_bad))


if __name__ == "__main__":
    main()
