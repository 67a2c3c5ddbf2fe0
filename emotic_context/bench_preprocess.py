"""Peak memory and wall time of ``mat2py.py --generate_npy`` on a generated full-size training split.

    python -m emotic_context.bench_preprocess --out /tmp/emotic_bench [--persons 23266] [--image_size 64]

Generates ``--persons`` training persons (the commonly used EMOTIC train count after dropping) as
small images with the official ``Annotations.mat`` nesting, then runs mat2py in a child process at
the port's cache sizes (224 px context, 128 px body) and reports the child's peak RSS and wall time.
The port keeps every resized image in a Python list and then copies it into one array, so its peak
is at least the size of the context + body arrays (printed for comparison, as arithmetic).
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from emotic_context.options import bench_preprocess_parser
from shared_utils.cli import answer_help_first

answer_help_first(bench_preprocess_parser, __name__)

import json
import os
import resource
import shutil
import subprocess
import sys
import time

import numpy as np

from emotic_context.demo_data import make_split, write_annotations_mat
from shared_utils.files import claim_output_folder


def main(argv=None) -> dict:
    parser = bench_preprocess_parser()
    args = parser.parse_args(argv)
    # Its own scratch folder only (new, empty, or made by this benchmark): the clean-up below removes what it wrote.
    out = claim_output_folder(args.out, "emotic_context.bench_preprocess")
    start = time.perf_counter()
    side = args.image_size
    images = make_split(np.random.default_rng(0), "train", args.persons, out / "emotic", drop_fraction=0.0,
                        size_range=((side, side + 1), (side, side + 1)))
    write_annotations_mat(out / "Annotations" / "Annotations.mat", {"train": images})
    generate_seconds = time.perf_counter() - start
    print(f"generated {args.persons} persons in {len(images)} images of {side}x{side} px in {generate_seconds:.0f} s")
    command = [sys.executable, "-m", "emotic_context.mat2py", "--data_dir", str(out), "--label", "train",
               "--generate_npy", "--context_size", str(args.context_size), "--body_size", str(args.body_size)]
    start = time.perf_counter()
    subprocess.run(command, check=True, env={"REPRO_NO_PROGRESS": "1", **os.environ})
    wall = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux reports KiB
    array_gb = args.persons * 3 * (args.context_size ** 2 + args.body_size ** 2) / 1e9
    context = np.load(out / "emotic_pre" / "train_context_arr.npy", mmap_mode="r")
    report = {"persons": args.persons, "images": len(images), "image_size": side,
              "context_size": args.context_size, "body_size": args.body_size,
              "mat2py_peak_rss_mb": round(peak_mb, 1), "mat2py_wall_seconds": round(wall, 1),
              "cache_gb_on_disk": round(array_gb, 2), "cache_rows": int(context.shape[0]),
              "port_in_memory_arrays_gb_at_least": round(array_gb, 2), "command": " ".join(command)}
    print(json.dumps(report, indent=1))
    (out / "bench_preprocess.json").write_text(json.dumps(report, indent=1))
    if not args.keep:
        for name in ("emotic", "emotic_pre"):
            shutil.rmtree(out / name, ignore_errors=True)
    return report


if __name__ == "__main__":
    main()
