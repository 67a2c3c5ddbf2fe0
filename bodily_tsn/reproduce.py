"""Reproduce the paper's EmoReact experiments, or a short demo of them when the data is absent.

    python -m bodily_tsn.reproduce --data-root data --out runs/reproduce/bodily_tsn [--full] [--pretrained affectnet]

With ``DATA_ROOT/EmoReact`` present, each experiment runs the original's recipe (``EmoReact/config.json``,
3 segments as its README table) with the experiment's flags, starting from the original's AffectNet
weights (``--pretrained affectnet``: the weights cache; or a file). Without it,
a demo EmoReact is written to ``OUT/demo_data`` and the headline experiment (TSM late fusion of the
masked face and the body) runs with the short demo recipe ``configs/demo.yaml``; ``--full`` adds
the other four experiments.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from bodily_tsn.options import EXPERIMENTS, reproduce_parser
from shared_utils.cli import answer_help_first

answer_help_first(reproduce_parser, __name__)

import time
from pathlib import Path

from bodily_tsn.dataset import PACKAGE_DIR
from bodily_tsn.demo_data import make_demo_dataset
from bodily_tsn.model import resolve_pretrained
from shared_utils.files import REPRODUCE_MARKER, claimed_output_folder
from shared_utils.results import load_results
from shared_utils.runs import run_script

HEADLINE = "tsm_fusion_mask"


def run_experiment(name: str, config: Path, data_root: Path, out: Path, extra: list[str]) -> dict:
    argv = ["--config", str(config), *EXPERIMENTS[name], "--data_root", str(data_root), "--output", str(out),
            "--experiment", name, "--overwrite", *extra]
    started = time.perf_counter()
    run_script("bodily_tsn.train_EmoReact", argv)
    test = load_results(out / name / "results.json")["metrics"]
    print(f"bodily_tsn: {name}: test micro ROC AUC {test['roc_auc_micro']:.4f} "
          f"({time.perf_counter() - started:.0f} s) -> {out / name}/results.json", flush=True)
    return test


def reproduce(data_root: str | Path, out: str | Path, full: bool = False, pretrained: str = "affectnet",
              experiments: list[str] | None = None) -> dict[str, dict]:
    data_root, out = Path(data_root), Path(out)
    with claimed_output_folder(out, "bodily_tsn.reproduce", marker=REPRODUCE_MARKER):
        return _reproduce(data_root, out, full, pretrained, experiments)


def _reproduce(data_root: Path, out: Path, full: bool, pretrained: str, experiments: list[str] | None) -> dict:
    dataset = data_root / "EmoReact"
    results = {}
    if (dataset / "Data" / "AllVideos").is_dir():
        if str(pretrained).lower() == "none":
            raise SystemExit("error: the paper recipe starts from the original's AffectNet weights: pass "
                             "--pretrained affectnet (the weights cache) or a file, not none")
        names = experiments or list(EXPERIMENTS)
        for shift in dict.fromkeys("--shift" in EXPERIMENTS[name] for name in names):  # the experiments' order
            resolve_pretrained(pretrained, "resnet50", shift)  # a missing weights file: one line, before any run
        for name in names:
            extra = ["--pretrained", pretrained]
            results[name] = run_experiment(name, PACKAGE_DIR / "EmoReact" / "config.json", dataset, out, extra)
        return results
    print(f"bodily_tsn: no EmoReact at {dataset} (see bodily_tsn/README.md to get it); running on demo data",
          flush=True)
    demo_root = make_demo_dataset(out / "demo_data")
    names = experiments or (list(EXPERIMENTS) if full else [HEADLINE])
    for name in names:
        results[name] = run_experiment(name, PACKAGE_DIR / "configs" / "demo.yaml", demo_root, out, [])
    return results


def main_cli(argv=None) -> None:
    parser = reproduce_parser()
    args = parser.parse_args(argv)
    started = time.perf_counter()
    reproduce(args.data_root, args.out, args.full, args.pretrained, args.experiments)
    print(f"bodily_tsn: reproduce took {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main_cli()
