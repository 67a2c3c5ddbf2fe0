"""Throughput of the data pipeline and of training, with peak memory, on the paper recipe's shapes.

    python -m bodily_tsn.benchmark --data_root DIR [--sections dataset step] [--settings default bf16+channels_last]
        [--ref REV] [--input fusion --num_segments 3 --crop_size 224 --arch resnet50 --batch_size 8 --threads 2]

1. ``frames``: for each ``--videos`` file (any mp4), clips/s of fetching ``num_segments`` TSN-sampled
   frames by decoding the mp4 versus reading the same frames from an extracted JPEG folder.
2. ``dataset``: clips/s of the training loader alone (sampling, decoding, crops, augmentation, tensors) over
   ``DATA_ROOT``'s train split, from mp4 and from extracted frames.
3. ``train``: end-to-end training clips/s (data + forward + backward + SGD step), fp32.
4. ``step``: the training step alone, ``train_EmoReact.py``'s own code on synthetic clips
   (``time_train_step.py``), one process per setting (precision, memory format, allocator) and per ``--ref``
   revision, alternated over ``--rounds``; the table's ratios are to its first row.
The settings are printed with the numbers. Not a test: numbers depend on the machine and its load.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from bodily_tsn.options import benchmark_parser
from shared_utils.cli import answer_help_first

answer_help_first(benchmark_parser, __name__)

import contextlib
import subprocess
import sys
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
from bodily_tsn.demo_data import make_demo_dataset
from bodily_tsn.model import BodilyTSN
from bodily_tsn.presets import ClipTrainTransform
from bodily_tsn.tools.frames import decode_all, write_frame_folder
from bodily_tsn.tools.vid2img_emoreact import extract
from shared_utils.benchmarking import (
    Setting,
    alternate,
    peak_rss_mib,
    print_settings_table,
    reset_peak_rss,
    runtime_flags,
    setting_env,
)


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


DEMO_CLIPS = {"train": 16, "val": 2, "test": 2}  # without --data_root: a demo EmoReact this size
STEP_TIMER = Path(__file__).resolve().parent / "time_train_step.py"


def step_setting(name: str, trainer_argv: list[str], steps: int, tree: Path | None = None) -> Setting:
    """How to run ``time_train_step.py`` for setting ``name`` (``default``: the trainer's own defaults; else e.g.
    ``bf16+channels_last+jemalloc``, see ``shared_utils.benchmarking``), with ``tree``'s code if given."""
    flags, env = ([], {}) if name == "default" else (runtime_flags(name), setting_env(name))
    argv = [sys.executable, str(STEP_TIMER), "--steps", str(steps), "--", *trainer_argv, *flags]
    if tree is not None:  # an older checkout first on the path: its own package code, this file's timer
        env["PYTHONPATH"] = str(tree)
    return Setting(argv, env, str(tree) if tree else None)


@contextlib.contextmanager
def checkout(rev: str):
    """``git archive REV`` unpacked into a temporary folder (removed afterwards); the repository is untouched."""
    repo = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="bodily_ref_") as tmp:
        archive = subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", rev], capture_output=True)
        if archive.returncode != 0:
            raise SystemExit(f"error: --ref {rev}: git archive failed: {archive.stderr.decode().strip()}")
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        yield Path(tmp)


def bench_steps(args, trainer_argv: list[str]) -> None:
    with contextlib.ExitStack() as stack:
        settings = {}
        if args.ref:
            tree = stack.enter_context(checkout(args.ref))
            settings[f"{args.ref} (its defaults)"] = step_setting("default", trainer_argv, args.steps, tree)
        for name in args.settings:
            settings[name] = step_setting(name, trainer_argv, args.steps)
        results = alternate(settings, args.rounds)
    print(f"step ({' '.join(trainer_argv)}; {args.steps} steps a run, {args.rounds} alternated rounds, medians):")
    print_settings_table(results, "clips", args.batch_size)


def main(argv=None) -> None:
    parser = benchmark_parser()
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    trainer_argv = ["--input", args.input, "--num_segments", str(args.num_segments), "--arch", args.arch,
                    "--batch-size", str(args.batch_size), "--crop_size", str(args.crop_size),
                    "--scale_size", str(args.scale_size), "--threads", str(args.threads),
                    *(["--shift"] if args.shift else [])]
    print(f"# bodily_tsn benchmark: input={args.input} segments={args.num_segments} crop={args.crop_size} "
          f"arch={args.arch} shift={args.shift} batch={args.batch_size} threads={torch.get_num_threads()}")
    with tempfile.TemporaryDirectory() as tmp:
        if {"dataset", "train"} & set(args.sections) and not args.data_root:  # a small demo EmoReact
            args.data_root = str(make_demo_dataset(Path(tmp) / "demo", DEMO_CLIPS, seed=0))
        if "frames" in args.sections:
            for row in bench_frames([Path(v) for v in args.videos], args.num_segments, args.repeats, Path(tmp)):
                print(f"frames {row['video']} ({row['frames']} frames {row['size']}): "
                      f"mp4 {row['mp4_clips_per_s']:.1f} clips/s, jpeg {row['jpeg_clips_per_s']:.1f} clips/s")
        if "dataset" in args.sections:
            reset_peak_rss()
            row = bench_dataset(args, Path(tmp))
            print(f"dataset (the training loader alone; {args.input}, {args.num_segments} segments, "
                  f"{args.crop_size} px): mp4 {row['mp4_clips_per_s']:.1f} clips/s, jpeg "
                  f"{row['jpeg_clips_per_s']:.1f} clips/s, peak RSS {peak_rss_mib():.0f} MiB")
        if "train" in args.sections:
            reset_peak_rss()
            row = bench_train(args)
            print(f"train (loader + step, end to end; {args.arch}, {args.input}, {args.num_segments} segments, "
                  f"{args.crop_size} px, batch {args.batch_size}, fp32): {row['train_clips_per_s']:.2f} clips/s, "
                  f"peak RSS {peak_rss_mib():.0f} MiB")
    if "step" in args.sections:
        bench_steps(args, trainer_argv)


if __name__ == "__main__":
    main()
