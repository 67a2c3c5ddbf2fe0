"""One command for every number in this package's README.

    python -m emotionroi_ex.reproduce --data-root data --out runs/reproduce/emotionroi_ex

With ``DATA_ROOT/EmotionROI`` present: the paper recipe (FCN-32s AlexNet, lr 1e-8, 20 epochs), Kahsolt's
fcn_resnet50 FCNEL and EmoFCNEL (SGD 1e-2 cosine, 100 epochs), his map-only classifier and the four
baselines, from ``configs/`` (local weights via --alexnet-weights / --fcn-resnet50-weights /
--resnet50-weights; nothing downloads).  Without it: the deterministic demo dataset is written to
``OUT/demo_data`` and the short demo recipes (``configs/demo_*.yaml``) run in about two minutes on
two CPU cores; every results.json then says ``data: "demo"``.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from functools import partial

from emotionroi_ex.options import reproduce_parser
from shared_utils.cli import answer_help_first

answer_help_first(partial(reproduce_parser, __doc__), __name__)

import json
import time
from pathlib import Path

from emotionroi_ex import DATASET, PACKAGE
from emotionroi_ex.demo_data import write_demo_dataset
from shared_utils.files import REPRODUCE_MARKER, claim_output_folder
from shared_utils.runs import run_script

CONFIGS = Path(__file__).resolve().parent / "configs"
DEMO_PER_CLASS = 16


def _run(module: str, config: str, common: list[str], extra: list[str] | None = None) -> None:
    run_script(f"{PACKAGE}.{module}", ["--config", str(CONFIGS / config), *common, *(extra or [])])


def main(argv=None):
    parser = reproduce_parser(__doc__)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    out = claim_output_folder(args.out, "emotionroi_ex.reproduce", marker=REPRODUCE_MARKER)
    root = Path(args.data_root) / DATASET
    if root.is_dir():
        kind = "real"
        if "none" in (args.alexnet_weights, args.fcn_resnet50_weights, args.resnet50_weights):
            print(f"{PACKAGE}: warning: some networks start from random weights (none); the paper and Kahsolt "
                  "start from pretrained ones")
        alex = ["--pretrained", args.alexnet_weights]
        fcn = ["--pretrained", args.fcn_resnet50_weights]
        r50 = ["--pretrained", args.resnet50_weights]
        runs = [
            ("train_FCNEL", "fcnel_paper_alexnet.yaml", ["--experiment", "fcnel_paper", *alex]),
            ("train_FCNEL", "fcnel_kahsolt.yaml", ["--experiment", "fcnel", *fcn]),
            ("train_EmoFCNEL", "emofcnel_kahsolt.yaml", ["--experiment", "emofcnel", *fcn]),
            ("train_ROI_clf", "roi_clf_kahsolt.yaml", ["--experiment", "roi_clf", *r50]),
        ]
    else:
        kind = "demo"
        print(f"{PACKAGE}: no {DATASET} at {root} (see {PACKAGE}/README.md to get it); running on demo data")
        root = out / "demo_data" / DATASET
        # reused when already there, unless it was written with other parameters
        params = {"per_class": DEMO_PER_CLASS, "seed": 0, "size_range": [80, 112]}
        marker = out / "demo_data" / "demo_params.json"
        current = json.loads(marker.read_text()) if marker.is_file() else None
        if current != params or not (root / "training_testing_split" / "testing.txt").is_file():
            write_demo_dataset(root, per_class=DEMO_PER_CLASS, seed=0, size_range=tuple(params["size_range"]))
            marker.write_text(json.dumps(params) + "\n")
        runs = [
            ("train_FCNEL", "demo_fcnel.yaml", ["--experiment", "fcnel"]),
            ("train_EmoFCNEL", "demo_emofcnel.yaml", ["--experiment", "emofcnel"]),
            ("train_ROI_clf", "demo_roi_clf.yaml", ["--experiment", "roi_clf"]),
        ]
    threads = args.threads if args.threads is not None else (1 if kind == "demo" else 0)
    common = ["--data-path", str(root), "--output", str(out), "--overwrite",
              "--device", args.device, "--threads", str(threads)]
    for module, config, extra in runs:
        _run(module, config, common, extra)
    run_script(f"{PACKAGE}.evaluate_baselines", ["--data-path", str(root), "--output", str(out), "--overwrite"])
    print(f"{PACKAGE}: reproduce ({kind} data) took {time.perf_counter() - start:.0f} s; results under {out}")


if __name__ == "__main__":
    main()
