"""Reproduce the package's numbers:
``python -m fer_seresnet.reproduce --data-root DIR --out runs/reproduce/fer_seresnet``.

* ``DIR/fer2013`` present (fer2013.csv or train/ + test/), ``--recipe full`` (the default on CUDA): trains the three
  architectures with the full recipes ``configs/fer2013_{cnn,se_cnn,se_resnet18}.yaml`` and scores them on the test
  split with ten-crop; with ``DIR/RAF-DB/basic`` also present, the SE-ResNet is scored cross-dataset on RAF-DB.
  ``--recipe cpu`` (the default without CUDA, where the full recipes would take days) runs the README's CPU number
  instead: ``configs/fer2013_se_cnn_cpu45min.yaml``, a 36-minute wall-clock budget.
* otherwise: writes the demo data under ``OUT/demo_data`` (reused when there) and runs the short demo recipes
  (``configs/demo_*.yaml``, about a minute on 2 CPU cores) into the same experiment folders, marked ``data: demo``.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from fer_seresnet.options import reproduce_parser
from shared_utils.cli import answer_help_first

answer_help_first(reproduce_parser, __name__)

import time
from pathlib import Path

import torch

from fer_seresnet.demo_data import write_demo
from shared_utils.files import REPRODUCE_MARKER, claim_output_folder
from shared_utils.runs import run_script

CONFIGS = Path(__file__).resolve().parent / "configs"
ARCH_RECIPES = ("cnn", "se_cnn", "se_resnet18")


def _train(config: Path, data_path: Path, out: Path, experiment: str, extra: list[str]) -> None:
    argv = ["--config", str(config), "--data-path", str(data_path), "--output", str(out), "--experiment", experiment,
            "--overwrite", *extra]
    run_script("fer_seresnet.train", argv)


def _cross(checkpoint: Path, data_path: Path, out: Path, experiment: str) -> None:
    argv = ["--checkpoint", str(checkpoint), "--cross-dataset", "rafdb", "--data-path", str(data_path), "--split",
            "test", "--output", str(out), "--experiment", experiment, "--overwrite", "--ten-crop"]
    run_script("fer_seresnet.evaluate", argv)


def main(argv: list[str] | None = None) -> None:
    parser = reproduce_parser()
    args = parser.parse_args(argv)
    start = time.perf_counter()
    data_root, out = Path(args.data_root), Path(args.out)
    claim_output_folder(out, "fer_seresnet.reproduce", marker=REPRODUCE_MARKER)
    fer_dir = data_root / "fer2013"
    runtime = ["--device", args.device]
    if fer_dir.exists():
        data_kind, rafdb = "real", data_root / "RAF-DB" / "basic"
        recipe = args.recipe
        if recipe == "auto":
            recipe = "full" if torch.cuda.is_available() and args.device != "cpu" else "cpu"
        if recipe == "cpu":
            print("fer_seresnet: no CUDA device; running the 36-minute CPU recipe (--recipe full for the paper's)")
            _train(CONFIGS / "fer2013_se_cnn_cpu45min.yaml", fer_dir, out, "fer2013_se_cnn_cpu45min",
                   runtime)
            rafdb = None  # the cross-dataset step scores the full recipe's SE-ResNet
        else:
            for arch in ARCH_RECIPES:
                _train(CONFIGS / f"fer2013_{arch}.yaml", fer_dir, out, f"fer2013_{arch}", runtime)
    else:
        print(f"fer_seresnet: no FER2013 at {fer_dir} (see fer_seresnet/README.md to get it); running on demo data")
        data_kind = "demo"
        demo = out / "demo_data"
        if not (demo / "fer2013" / "fer2013.csv").is_file() or not (demo / "rafdb" / "basic").is_dir():
            write_demo(demo, layout="csv")
        fer_dir, rafdb = demo / "fer2013", demo / "rafdb" / "basic"
        for arch in ARCH_RECIPES:
            _train(CONFIGS / f"demo_{arch}.yaml", fer_dir, out, f"fer2013_{arch}", runtime)
    if rafdb is not None and rafdb.is_dir():
        _cross(out / "fer2013_se_resnet18" / "checkpoint_best.pt", rafdb, out, "rafdb_cross_se_resnet18")
    print(f"fer_seresnet: reproduce ({data_kind} data) took {time.perf_counter() - start:.0f} s; results under {out}")


if __name__ == "__main__":
    main()
