"""Extract every frame of the EmoReact clips to ``<out>/<video stem>/%06d.jpg`` (idempotent).

    python -m bodily_tsn.tools.vid2img_emoreact --data_root data/EmoReact --out data/EmoReact/frames

Clips already extracted (their folder has the completion marker) are skipped; a clip that cannot be
decoded stops the run with its path, or is skipped and counted with ``--skip_bad``.
"""

from __future__ import annotations

from pathlib import Path

import av

from bodily_tsn.dataset import VIDEO_SUBDIR, check_data_root
from bodily_tsn.tools.frames import decode_all, is_done, write_frame_folder
from shared_utils.cli import ArgumentParser
from shared_utils.runtime import progress


def extract(data_root: str | Path, out: str | Path, skip_bad: bool = False, show_progress: bool = True) -> dict:
    root = check_data_root(data_root)
    videos = sorted((root / VIDEO_SUBDIR).glob("*.mp4"))
    if not videos:
        raise SystemExit(f"error: {root / VIDEO_SUBDIR}: no .mp4 clips")
    out = Path(out)
    counts = {"extracted": 0, "skipped_done": 0, "bad": 0}
    for video in progress(videos, desc="vid2img", enabled=show_progress):
        folder = out / video.stem
        if is_done(folder):
            counts["skipped_done"] += 1
            continue
        try:
            written = write_frame_folder(folder, decode_all(video))
            if written == 0:
                raise av.error.InvalidDataError(0, "no frames")
        except av.error.FFmpegError as exc:
            if not skip_bad:
                raise SystemExit(f"error: {video}: cannot decode ({exc}); pass --skip_bad to skip it") from None
            counts["bad"] += 1
            continue
        counts["extracted"] += 1
    return counts


def main(argv=None) -> None:
    parser = ArgumentParser(description="extract EmoReact frames to <out>/<stem>/%06d.jpg")
    parser.add_argument("--data_root", required=True, help="EmoReact folder (Data/AllVideos/*.mp4)")
    parser.add_argument("--out", required=True, help="frames folder")
    parser.add_argument("--skip_bad", action="store_true")
    args = parser.parse_args(argv)
    print(extract(args.data_root, args.out, args.skip_bad))


if __name__ == "__main__":
    main()
