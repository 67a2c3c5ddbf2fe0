"""Throughput of the data pipeline (mp4 decoding vs extracted JPEG frames) and of end-to-end training.

    python -m bodily_tsn.benchmark --data_root DIR [--videos a.mp4 b.mp4] [--input fusion --num_segments 5
        --crop_size 224 --arch resnet50 --steps 4 --batch_size 4 --threads 2]

1. ``frames``: for each ``--videos`` file (any mp4), clips/s of fetching ``num_segments`` TSN-sampled
   frames by decoding the mp4 versus reading the same frames from an extracted JPEG folder.
2. ``dataset``: clips/s of the full training pipeline (sampling, decoding, crops, augmentation,
   tensors) over ``DATA_ROOT``'s train split, from mp4 and from extracted frames.
3. ``train``: end-to-end training clips/s (data + forward + backward + SGD step) at the stated size.
Not a test: numbers depend on the machine and its load; the README quotes them with the command.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch

from bodily_tsn.dataset import (
    EmoReactClips,
    read_folder_frames,
    read_video_frames,
    segment_indices,
    split_paths,
    video_info,
)
from bodily_tsn.model import BodilyTSN
from bodily_tsn.presets import ClipTrainTransform
from bodily_tsn.tools.frames import decode_all, write_frame_folder
from bodily_tsn.tools.vid2img_emoreact import extract
from shared_utils.cli import ArgumentParser, nonnegative_int, positive_int


def clips_per_second(fn, count: int) -> float:
    started = time.perf_counter()
    for i in range(count):
        fn(i)
    return count / (time.perf_counter() - started)


def bench_frames(videos: list[Path], num_segments: int, repeats: int, workdir: Path) -> list[dict]:
    rows = []
    for video in videos:
        num_frames, width, height = video_info(video)
        folder = workdir / video.stem
        write_frame_folder(folder, decode_all(video))
        torch.manual_seed(0)
        draws = [segment_indices(num_frames, num_segments, train=True) for _ in range(repeats)]
        mp4 = clips_per_second(lambda i, v=video, d=draws: read_video_frames(v, d[i]), repeats)
        jpg = clips_per_second(lambda i, f=folder, d=draws: read_folder_frames(f, d[i]), repeats)
        rows.append({"video": video.name, "frames": num_frames, "size": f"{width}x{height}",
                     "mp4_clips_per_s": mp4, "jpeg_clips_per_s": jpg})
    return rows


def bench_dataset(args, workdir: Path) -> dict:
    root = Path(args.data_root)
    train_csv = split_paths(None, root)["train"]
    frames_dir = workdir / "frames"
    extract(root, frames_dir, show_progress=False)
    out = {}
    for source, folder in (("mp4", None), ("jpeg", frames_dir)):
        ds = EmoReactClips(root, train_csv, args.input, args.num_segments, train=True, frames_dir=folder,
                           source="mp4", transform=ClipTrainTransform(args.crop_size, args.scale_size),
                           show_progress=False)
        n = min(len(ds), args.clips)
        out[f"{source}_clips_per_s"] = clips_per_second(lambda i, ds=ds: ds[i], n)
    return out


def bench_train(args) -> dict:
    torch.manual_seed(0)
    root = Path(args.data_root)
    train_csv = split_paths(None, root)["train"]
    ds = EmoReactClips(root, train_csv, args.input, args.num_segments, train=True,
                       transform=ClipTrainTransform(args.crop_size, args.scale_size), show_progress=False)
    loader = torch.utils.data.DataLoader(ds, batch_size=args.batch_size, shuffle=True, drop_last=True)
    model = BodilyTSN(args.input, args.arch, args.num_segments, partial_bn=False, shift=args.shift).train()
    optimizer = torch.optim.SGD(model.parameters(), 0.01, momentum=0.9)
    batches = iter(loader)
    clips, started = 0, None
    for step in range(args.steps + 1):  # the first step warms up and is not timed
        if step == 1:
            started = time.perf_counter()
        try:
            batch = next(batches)
        except StopIteration:
            batches = iter(loader)
            batch = next(batches)
        out = model(batch["frames"])
        loss = torch.nn.functional.binary_cross_entropy_with_logits(out["stream_logits"].mean(1), batch["labels"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step >= 1:
            clips += batch["frames"].shape[0]
    return {"train_clips_per_s": clips / (time.perf_counter() - started)}


def main(argv=None) -> None:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_root", required=True)
    parser.add_argument("--videos", nargs="*", default=[], help="extra mp4 files for the frames benchmark")
    parser.add_argument("--input", default="fusion")
    parser.add_argument("--num_segments", type=positive_int, default=5)
    parser.add_argument("--crop_size", type=positive_int, default=224)
    parser.add_argument("--scale_size", type=positive_int, default=256)
    parser.add_argument("--arch", default="resnet50")
    parser.add_argument("--shift", action="store_true")
    parser.add_argument("--batch_size", type=positive_int, default=4)
    parser.add_argument("--steps", type=positive_int, default=4)
    parser.add_argument("--clips", type=positive_int, default=32, help="clips timed in the dataset benchmark")
    parser.add_argument("--repeats", type=positive_int, default=20, help="samplings per video in the frames benchmark")
    parser.add_argument("--threads", type=nonnegative_int, default=None)
    parser.add_argument("--skip", nargs="*", default=[], choices=["frames", "dataset", "train"])
    args = parser.parse_args(argv)
    for name in ("num_segments", "crop_size", "scale_size", "batch_size", "steps", "clips", "repeats"):
        if getattr(args, name) < 1:  # a rate over zero clips would print 0 clips/s as if measured
            parser.error(f"--{name} must be at least 1")
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"# bodily_tsn benchmark: input={args.input} segments={args.num_segments} crop={args.crop_size} "
          f"arch={args.arch} threads={torch.get_num_threads()}")
    with tempfile.TemporaryDirectory() as tmp:
        if "frames" not in args.skip:
            for row in bench_frames([Path(v) for v in args.videos], args.num_segments, args.repeats, Path(tmp)):
                print(f"frames {row['video']} ({row['frames']} frames {row['size']}): "
                      f"mp4 {row['mp4_clips_per_s']:.1f} clips/s, jpeg {row['jpeg_clips_per_s']:.1f} clips/s")
        if "dataset" not in args.skip:
            row = bench_dataset(args, Path(tmp))
            print(f"dataset ({args.input}, {args.num_segments} segments, {args.crop_size} px): "
                  f"mp4 {row['mp4_clips_per_s']:.1f} clips/s, jpeg {row['jpeg_clips_per_s']:.1f} clips/s")
    if "train" not in args.skip:
        row = bench_train(args)
        print(f"train ({args.arch}, {args.input}, {args.num_segments} segments, {args.crop_size} px, batch "
              f"{args.batch_size}): {row['train_clips_per_s']:.2f} clips/s")


if __name__ == "__main__":
    main()
