"""``python -m emotic_context.reproduce --data-root DIR --out runs/reproduce/emotic_context``

With ``DIR/emotic`` (holding ``emotic/`` and ``Annotations/Annotations.mat``) it runs the port's
recipes (mat2py at 224/128 px, then train + test): ``configs/emotic_port.yaml`` (main.py) and
``configs/emotic_port_colab.yaml`` (the notebook that printed the port's 25.27 mAP), both from the
Places365 / ImageNet trunks of the weights cache; it refuses to start without them. Without it, it
writes the demo dataset under ``OUT/demo_data`` (reused when there) and runs the short demo recipe
(``configs/demo.yaml``, 32 px inputs, 20 epochs) into ``OUT/emotic_r18_body_context``; results.json says
``data: "demo"``.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from emotic_context.options import reproduce_parser
from shared_utils.cli import answer_help_first

answer_help_first(reproduce_parser, __name__)

import time
from pathlib import Path

import emotic_context  # noqa: F401
from emotic_context import demo_data
from shared_utils import weights as registry
from shared_utils.files import REPRODUCE_MARKER, claim_output_folder
from shared_utils.runs import run_script

HERE = Path(__file__).resolve().parent
EXPERIMENT = "emotic_r18_body_context"
DEMO_PERSONS = {"train": 160, "val": 50, "test": 70}
DEMO_SIZE = 32


def run(data_root: Path, out: Path, workers: int = 0) -> Path:
    dataset = data_root / "emotic"
    start = time.perf_counter()
    if (dataset / "Annotations" / "Annotations.mat").is_file():
        for name in ("places365_resnet18", "imagenet_resnet18"):  # one line naming a missing file, before anything
            registry.fetch(name, f"emotic_context reproduce on real data needs {name}")
        cache = dataset / "emotic_pre"
        if not (cache / "test_context_arr.npy").is_file():
            run_script("emotic_context.mat2py", ["--data_dir", str(dataset), "--generate_npy"])
        for config, name in (("emotic_port.yaml", "port_main"), ("emotic_port_colab.yaml", "port_colab")):
            argv = ["--config", str(HERE / "configs" / config), "--mode", "train_test", "--data_path", str(cache),
                    "--experiment_path", str(out / name), "--workers", str(workers)]
            run_script("emotic_context.main", argv)
        print(f"emotic_context: reproduce took {time.perf_counter() - start:.0f} s; results in {out}")
        return out
    else:
        print(f"emotic_context: no EMOTIC at {dataset} (see emotic_context/README.md to get it); running on demo data")
        dataset = out / "demo_data"
        if not (dataset / "Annotations" / "Annotations.mat").is_file():
            demo_data.generate(dataset, DEMO_PERSONS)
        cache = dataset / "emotic_pre"
        if not (cache / "test_context_arr.npy").is_file():
            run_script("emotic_context.mat2py", ["--data_dir", str(dataset), "--generate_npy", "--context_size",
                                                 str(DEMO_SIZE), "--body_size", str(DEMO_SIZE)])
        config, overwrite = HERE / "configs" / "demo.yaml", ["--overwrite"]
    argv = ["--config", str(config), "--mode", "train_test", "--data_path", str(cache), "--experiment_path",
            str(out / EXPERIMENT), "--workers", str(workers), *overwrite]
    run_script("emotic_context.main", argv)
    print(f"emotic_context: reproduce took {time.perf_counter() - start:.0f} s; results in {out / EXPERIMENT}")
    return out / EXPERIMENT


def main(argv=None) -> None:
    parser = reproduce_parser()
    args = parser.parse_args(argv)
    out = claim_output_folder(args.out, "emotic_context.reproduce", marker=REPRODUCE_MARKER)
    run(Path(args.data_root), out, args.workers)


if __name__ == "__main__":
    main()
