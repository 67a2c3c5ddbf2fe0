"""Score the paper's comparison maps on the test split exactly as FCNEL is scored.

    python -m emotionroi_ex.evaluate_baselines --data-path data/EmotionROI --output runs/emotionroi_ex

Writes one run folder per baseline (``baseline_spectral_residual``, ``baseline_center_bias``,
``baseline_objectness``, ``baseline_mean_map``), each with results.json (the training mean map as
the trivial reference) and per_image_metrics.csv.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from emotionroi_ex.options import evaluate_baselines_parser as get_args_parser
from shared_utils.cli import answer_help_first

answer_help_first(get_args_parser, __name__)

import time

import numpy as np

from emotionroi_ex import DATASET, PACKAGE
from emotionroi_ex.baselines import make_baselines
from emotionroi_ex.dataset import EmotionROI, mean_map
from emotionroi_ex.scoring import METRIC_NAMES, evaluate_map_function, fig6_indices, write_per_image_csv
from shared_utils.files import resolve_data_kind
from shared_utils.results import write_results
from shared_utils.runs import parse_args_with_config, prepare_run_dir, save_args
from shared_utils.runtime import get_logger


def main(args) -> dict[str, dict]:
    args.data_kind = resolve_data_kind(args.data_path)  # from the data, before any run folder
    log = get_logger(None)
    train_set = EmotionROI(args.data_path, "train")
    eval_set = EmotionROI(args.data_path, args.split)
    predictors = make_baselines(mean_map(train_set))
    image_of = lambda i: np.asarray(eval_set.load_pair(i)[0])  # noqa: E731
    reference, _ = evaluate_map_function(eval_set, lambda i: predictors["mean_map"](image_of(i)))
    summaries = {}
    for name in args.baselines:
        start = time.perf_counter()
        summary, rows = evaluate_map_function(eval_set, lambda i, f=predictors[name]: f(image_of(i)))
        # the same six images as the Fig.-6 grid of train_FCNEL.py
        grid = fig6_indices(eval_set)
        extra = {"fig6_grid_images": [eval_set.files[i] for i in grid],
                 "fig6_grid_mae": [round(float(v), 4) for v in rows[grid, METRIC_NAMES.index("mae")]]}
        run_dir = prepare_run_dir(args.output, f"baseline_{name}", overwrite=args.overwrite)
        save_args(run_dir, args)
        write_per_image_csv(run_dir / "per_image_metrics.csv", eval_set, rows)
        write_results(run_dir, package=PACKAGE, experiment=f"baseline_{name}", dataset=DATASET, data=args.data_kind,
                      split=args.split, metrics=summary, baseline=reference, device="cpu",
                      wall_seconds=time.perf_counter() - start, extra=extra)
        summaries[name] = summary
        log.info(f"{name:18s} MAE {summary['mae']:.4f}  F {summary['f_measure']:.3f}  CC {summary['cc']:.3f}  "
                 f"KL {summary['kl']:.3f}  SIM {summary['sim']:.3f}  ({len(eval_set)} {args.split} images)")
    return summaries


if __name__ == "__main__":
    main(parse_args_with_config(get_args_parser()))
