"""Grad-CAM / Grad-CAM++ / EigenCAM of a trained run, one map per sampled frame, for one label.

    python -m bodily_tsn.cam --run runs/bodily_tsn/tsm_fusion_mask --label Happiness --method gradcam \
        [--split test] [--videos NAME.mp4 ...| --num_clips 2] [--format gif|mp4] [--out DIR]

For each clip and stream (face and body for fusion) it writes ``<stem>_<stream>_<label>_<method>.png``
(a strip: the sampled crops over their overlays, with the model's score) and an animated ``.gif``
or ``.mp4`` of the overlays, into ``RUN/cam`` by default. The model, data and crops are rebuilt from
the run's ``args.yaml``; weights come from its best checkpoint.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from bodily_tsn.options import cam_parser
from shared_utils.cli import answer_help_first

answer_help_first(cam_parser, __name__)

from pathlib import Path

import av
import numpy as np
from PIL import Image

from bodily_tsn.dataset import LABELS, EmoReactClips, dataset_options, split_paths
from bodily_tsn.explain import explain_clip, load_run_model
from bodily_tsn.presets import ClipEvalTransform
from shared_utils.files import atomic_write, claim_output_folder
from shared_utils.gradcam import CAM_METHODS
from shared_utils.plotting import overlay_heatmap, save_image_grid

ANIMATION_SIZE = 160  # pixels per frame side in the GIF / mp4
CAM_MARKER = "CAM_OUTPUT.txt"  # marks a folder this script writes its pictures into


def write_animation(path: Path, frames: list[np.ndarray], fps: int = 2) -> None:
    """GIF (PIL) or mp4 (PyAV, H.264), written atomically."""
    frames = [np.asarray(Image.fromarray(f).resize((ANIMATION_SIZE, ANIMATION_SIZE), Image.BILINEAR))
              for f in frames]
    if path.suffix == ".gif":
        def write(handle):
            images = [Image.fromarray(f) for f in frames]
            images[0].save(handle, format="GIF", save_all=True, append_images=images[1:],
                           duration=int(1000 / fps), loop=0)
    else:
        def write(handle):
            with av.open(handle, mode="w", format="mp4") as container:
                stream = container.add_stream("libx264", rate=fps)
                stream.width = stream.height = ANIMATION_SIZE
                stream.pix_fmt = "yuv420p"
                for frame in frames:
                    for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                        container.mux(packet)
                for packet in stream.encode():
                    container.mux(packet)
    atomic_write(path, write)


def run_cam(run: str | Path, label: str, method: str = "gradcam", split: str = "test", videos=None,
            num_clips: int = 2, fmt: str = "gif", out: str | Path | None = None,
            data_root: str | None = None) -> list[Path]:
    run = Path(run)
    if label not in LABELS:
        raise SystemExit(f"error: unknown --label {label!r}; choose from {', '.join(LABELS)}")
    if method not in CAM_METHODS:
        raise SystemExit(f"error: unknown --method {method!r}; choose from {', '.join(CAM_METHODS)}")
    model, args = load_run_model(run)
    if data_root:
        args.data_root = data_root
    dataset = EmoReactClips(args.data_root, split_paths(args.split_dir, Path(args.data_root))[split], args.input,
                            args.num_segments, train=False, transform=ClipEvalTransform(args.crop_size),
                            split=split, **dataset_options(args, show_progress=False))
    names = [c.record.video for c in dataset.clips]
    if videos:
        unknown = [v for v in videos if v not in names]
        if unknown:
            raise SystemExit(f"error: {', '.join(unknown)}: not in the {split} split of {args.data_root}")
        picks = [names.index(v) for v in videos]
    else:
        picks = list(range(min(num_clips, len(dataset))))
    # a folder of the user's is never written into: only a new or empty one, or one this script made before
    out_dir = claim_output_folder(Path(out) if out else run / "cam", "bodily_tsn.cam", marker=CAM_MARKER)
    label_index = LABELS.index(label)
    written = []
    for idx in picks:
        item = dataset[idx]
        frame_ids = dataset.sample_indices(idx)
        explained = explain_clip(model, item["frames"], label_index, method)
        stem = dataset.clips[idx].record.stem
        truth = int(item["labels"][label_index])
        for stream, result in explained.items():
            overlays = [overlay_heatmap(img, hm) for img, hm in zip(result["images"], result["maps"])]
            titles = [f"frame {f}" for f in frame_ids] + [f"{method}" for _ in frame_ids]
            base = out_dir / f"{stem}_{stream}_{label}_{method}"
            save_image_grid([*result["images"], *overlays], base.with_suffix(".png"), titles=titles,
                            ncols=len(overlays), suptitle=f"{stem} {stream}: {label} score {result['score']:.2f} "
                            f"(true {truth})")
            write_animation(base.with_suffix("." + fmt), overlays)
            written += [base.with_suffix(".png"), base.with_suffix("." + fmt)]
    return written


def main(argv=None) -> None:
    parser = cam_parser()
    args = parser.parse_args(argv)
    for path in run_cam(args.run, args.label, args.method, args.split, args.videos, args.num_clips, args.fmt,
                        args.out, args.data_root):
        print(path)


if __name__ == "__main__":
    main()

