"""Extract every frame of the EmoReact clips to ``<out>/<video stem>/%06d.jpg`` (idempotent).

    python -m bodily_tsn.tools.vid2img_emoreact --data_root data/EmoReact --out data/EmoReact/frames

Clips already extracted (their folder has the completion marker) are skipped; a clip that cannot be
decoded stops the run with its path, or is skipped and counted with ``--skip_bad``.
"""

from __future__ import annotations

from pathlib import Path

import av

from bodily_tsn.tools.frames import decode_all, each_clip, write_frame_folder
from shared_utils.cli import ArgumentParser


def extract(data_root: str | Path, out: str | Path, skip_bad: bool = False, show_progress: bool = True) -> dict:
    def extract_one(video: Path, folder: Path) -> None:
        if write_frame_folder(folder, decode_all(video)) == 0:
            raise av.error.InvalidDataError(0, "no frames")

    return each_clip(data_root, out, "extracted", extract_one, (av.error.FFmpegError,), skip_bad, show_progress)


def main(argv=None) -> None:
    parser = ArgumentParser(description="extract EmoReact frames to <out>/<stem>/%06d.jpg")
    parser.add_argument("--data_root", required=True, help="EmoReact folder (Data/AllVideos/*.mp4)")
    parser.add_argument("--out", required=True, help="frames folder")
    parser.add_argument("--skip_bad", action="store_true")
    args = parser.parse_args(argv)
    print(extract(args.data_root, args.out, args.skip_bad))


if __name__ == "__main__":
    main()
