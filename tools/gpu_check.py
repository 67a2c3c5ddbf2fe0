"""``make gpu-check``: what only a CUDA machine can show, in one report.

On a CUDA machine it runs, on each package's demo data (or FER2013 under ``--data-root`` when present):

- each package's demo recipe twice, mixed precision off and on (with ``--channels-last``), timing the training
  and reading its final test metric: images (clips, persons) per second and the AMP on/off speed ratio;
- a 2-process ``torchrun`` run of the bodily demo recipe (NCCL with two GPUs, gloo on CPU otherwise);
- the FER2013 full recipe (``fer_seresnet.reproduce --recipe full``, on demo data without FER2013);

and writes ``OUT/gpu_check.md`` and ``OUT/gpu_check.json``. On a machine without CUDA it says so and exits 0.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from shared_utils.cli import ArgumentParser, answer_help_first


def get_args_parser() -> ArgumentParser:
    parser = ArgumentParser(description="make gpu-check: what only a CUDA machine can show, in one report")
    parser.add_argument("--out", default="runs/gpu_check")
    parser.add_argument("--data-root", default="data", help="FER2013 here runs the full recipe on real data")
    return parser


answer_help_first(get_args_parser, __name__)

import torch

import shared_utils  # noqa: F401  (before torchvision: CPU-only torch fix)
from shared_utils.files import atomic_write_text
from shared_utils.results import load_results
from shared_utils.runs import parse_args_with_config

ROOT = Path(__file__).resolve().parents[1]


def _timed(fn) -> float:
    torch.cuda.synchronize() if torch.cuda.is_available() else None
    start = time.perf_counter()
    fn()
    torch.cuda.synchronize() if torch.cuda.is_available() else None
    return time.perf_counter() - start


def _run(module, argv: list[str]):
    return module.main(parse_args_with_config(module.get_args_parser(), argv))


def package_runs(out: Path) -> dict[str, dict]:
    """name -> {"samples": training samples seen, "run": callable(extra_flags, experiment) -> results.json path}."""
    from bodily_tsn import train_EmoReact
    from bodily_tsn.demo_data import make_demo_dataset
    from emotic_context import demo_data as emotic_demo
    from emotic_context import main as emotic_main
    from emotic_context import mat2py, options
    from emotionroi_ex import train_FCNEL
    from emotionroi_ex.demo_data import write_demo_dataset
    from fer_seresnet import train as fer_train
    from fer_seresnet.demo_data import write_demo

    data = out / "data"
    bodily_root = make_demo_dataset(data / "EmoReact", show_progress=False)
    eroi_root = data / "EmotionROI"
    if not (eroi_root / "training_testing_split").is_dir():
        write_demo_dataset(eroi_root, per_class=16, seed=0, size_range=(80, 112))
    emotic_root = data / "emotic"
    if not (emotic_root / "emotic_pre" / "test_context_arr.npy").is_file():
        emotic_demo.generate(emotic_root, {"train": 160, "val": 50, "test": 70})
        mat2py.main(options.mat2py_parser().parse_args(["--data_dir", str(emotic_root), "--generate_npy",
                                                         "--context_size", "32", "--body_size", "32"]))
    fer_root = data / "fer_demo"
    if not (fer_root / "fer2013" / "fer2013.csv").is_file():
        write_demo(fer_root, layout="csv")
    configs = {"bodily": ROOT / "bodily_tsn" / "configs" / "demo.yaml",
               "emotic": ROOT / "emotic_context" / "configs" / "demo.yaml",
               "eroi": ROOT / "emotionroi_ex" / "configs" / "demo_fcnel.yaml",
               "fer": ROOT / "fer_seresnet" / "configs" / "demo_se_resnet18.yaml"}
    runs = out / "runs"

    def bodily(flags, name):
        _run(train_EmoReact, ["--config", str(configs["bodily"]), "--input", "fusion", "--shift", "--mask",
                              "--data_root", str(bodily_root), "--output", str(runs), "--experiment", name,
                              "--overwrite", "--threads", "0", *flags])
        return runs / name / "results.json"

    def emotic(flags, name):
        _run(emotic_main, ["--config", str(configs["emotic"]), "--mode", "train_test", "--data_path",
                           str(emotic_root / "emotic_pre"), "--experiment_path", str(runs / name), "--overwrite",
                           *flags])
        return runs / name / "results.json"

    def eroi(flags, name):
        _run(train_FCNEL, ["--config", str(configs["eroi"]), "--data-path", str(eroi_root), "--output", str(runs),
                           "--experiment", name, "--overwrite", "--threads", "0", *flags])
        return runs / name / "results.json"

    def fer(flags, name):
        _run(fer_train, ["--config", str(configs["fer"]), "--data-path", str(fer_root / "fer2013"), "--output",
                         str(runs), "--experiment", name, "--overwrite", *flags])
        return runs / name / "results.json"

    return {"bodily_tsn (TSM fusion, clips)": {"key": "bodily", "samples": 48 * 15, "run": bodily,
                                               "metric": "roc_auc_micro"},
            "emotic_context (persons)": {"key": "emotic", "samples": 154 * 20, "run": emotic, "metric": "mAP_percent"},
            "emotionroi_ex (FCNEL images)": {"key": "eroi", "samples": 54 * 10, "run": eroi, "metric": "mae"},
            "fer_seresnet (SE-ResNet images)": {"key": "fer", "samples": None, "run": fer, "metric": "accuracy"}}


def torchrun_check(out: Path) -> dict:
    gpus = torch.cuda.device_count()
    device = "cuda" if gpus >= 2 else "cpu"  # NCCL needs one GPU per process
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m",
           "bodily_tsn.train_EmoReact", "--config", str(ROOT / "bodily_tsn" / "configs" / "demo.yaml"),
           "--input", "fusion", "--shift", "--data_root", str(out / "data" / "EmoReact"), "--output",
           str(out / "runs"), "--experiment", "torchrun_2proc", "--overwrite", "--device", device, "--epochs", "2"]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    return {"command": " ".join(cmd[1:]), "returncode": done.returncode, "seconds": time.perf_counter() - start,
            "backend": "nccl" if device == "cuda" else "gloo (fewer than 2 GPUs)",
            "tail": done.stderr.strip().splitlines()[-3:] if done.returncode else []}


def write_report(out: Path, report: dict) -> Path:
    lines = [f"# gpu-check on {report['device']}", "", f"torch {report['torch']}, CUDA {report['cuda']}", "",
             "| package | AMP off: s | AMP on + channels_last: s | speed-up | samples/s (AMP on) | metric off | "
             "metric on |", "|---|---|---|---|---|---|---|"]
    for name, row in report["packages"].items():
        rate = f"{row['samples'] / row['seconds_amp']:.1f}" if row.get("samples") else "n/a"
        lines.append(f"| {name} | {row['seconds_fp32']:.1f} | {row['seconds_amp']:.1f} | "
                     f"{row['seconds_fp32'] / row['seconds_amp']:.2f}x | {rate} | {row['metric_fp32']} | "
                     f"{row['metric_amp']} |")
    tr = report["torchrun"]
    lines += ["", f"torchrun, 2 processes ({tr['backend']}): exit {tr['returncode']} in {tr['seconds']:.0f} s: "
              f"`{tr['command']}`", "", f"FER2013 full recipe: {report['fer_full']}", ""]
    atomic_write_text(out / "gpu_check.json", json.dumps(report, indent=1, default=str) + "\n")
    atomic_write_text(out / "gpu_check.md", "\n".join(lines))
    return out / "gpu_check.md"


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    if not torch.cuda.is_available():
        print(f"gpu-check: no CUDA device on this machine (torch {torch.__version__}); nothing to check here. Run "
              "`make gpu-check` on a machine with an NVIDIA GPU.")
        return 0
    out = Path(args.out)
    os.environ.setdefault("REPRO_NO_PROGRESS", "1")
    report = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "cuda": torch.version.cuda,
              "packages": {}}
    for name, spec in package_runs(out).items():
        row = {"samples": spec["samples"]}
        for key, flags in (("fp32", ["--device", "cuda", "--no-amp"]),
                           ("amp", ["--device", "cuda", "--amp", "--channels-last"])):
            holder = {}
            experiment = f"{spec['key']}_{key}"
            run = spec["run"]
            row[f"seconds_{key}"] = _timed(lambda f=flags, e=experiment, h=holder, r=run: h.update(path=r(f, e)))
            record = load_results(holder["path"])
            value = record["metrics"].get(spec["metric"])
            row[f"metric_{key}"] = f"{spec['metric']} {value:.4f}" if isinstance(value, float) else "n/a"
        report["packages"][name] = row
        print(f"gpu-check: {name}: {row}", flush=True)
    report["torchrun"] = torchrun_check(out)
    fer_out = out / "fer_full"
    done = subprocess.run([sys.executable, "-m", "fer_seresnet.reproduce", "--data-root", args.data_root, "--out",
                           str(fer_out), "--recipe", "full", "--device", "cuda"], cwd=ROOT, capture_output=True,
                          text=True)
    results = sorted(fer_out.rglob("results.json"))
    report["fer_full"] = "; ".join(
        f"{r['experiment']} ({r['data']}): accuracy {r['metrics'].get('accuracy')} in {r['wall_seconds']:.0f} s"
        for r in map(load_results, results)) if done.returncode == 0 else f"failed: {done.stderr[-300:]}"
    path = write_report(out, report)
    print(f"gpu-check: report in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
