"""Score a checkpoint: accuracy, macro-F1, per-class recall, confusion matrix PNG, optional ten-crop TTA.

    python -m fer_seresnet.evaluate --checkpoint runs/fer_seresnet/fer2013_se_resnet18/checkpoint_best.pt \
        --data-path data/fer2013 --split public_test --ten-crop
    # cross-dataset: a FER2013 checkpoint on RAF-DB (labels mapped to FER2013's order by the reader)
    python -m fer_seresnet.evaluate --checkpoint .../checkpoint_best.pt --cross-dataset rafdb \
        --data-path data/rafdb/basic --split test

Writes ``results.json`` (with the majority-class baseline on the same split), ``confusion_matrix.png`` and
``per_class_recall.png`` into ``--output/--experiment``.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from fer_seresnet.options import evaluate_parser as get_args_parser
from shared_utils.cli import answer_help_first

answer_help_first(get_args_parser, __name__)

import argparse

import numpy as np

from fer_seresnet.dataset import CLASS_NAMES, load_dataset
from fer_seresnet.scoring import (
    choose_test_split,
    majority_baseline,
    model_from_checkpoint,
    predict_split,
    write_evaluation,
)
from shared_utils.files import resolve_data_kind
from shared_utils.results import Stopwatch
from shared_utils.runs import parse_args_with_config, prepare_run_dir, save_args
from shared_utils.runtime import Runtime, get_logger


def main(args: argparse.Namespace) -> dict:
    args.data_kind = resolve_data_kind(args.data_path)  # from the data, before any run folder
    watch = Stopwatch()
    rt = Runtime.from_namespace(args)
    model, options, state = model_from_checkpoint(args.checkpoint, rt)
    dataset_name = args.cross_dataset or args.dataset or options.get("dataset", "fer2013")
    class_names = tuple(options.get("class_names", CLASS_NAMES))
    data = load_dataset(dataset_name, args.data_path, args.ferplus_csv, args.skip_bad_rows, args.ferplus_mode,
                        args.ferplus_classes or len(class_names))
    if len(data.class_names) != len(class_names):
        raise SystemExit(f"error: {args.checkpoint} predicts {len(class_names)} classes but {dataset_name} has "
                         f"{len(data.class_names)}; pass --ferplus-classes {len(class_names)}")
    split_name = choose_test_split(data.splits, args.split, args.data_path)
    tta = "_tencrop" if args.ten_crop else ""
    cross = "_cross" if args.cross_dataset else ""
    experiment = args.experiment or f"eval_{options['arch']}_{dataset_name}_{split_name}{tta}{cross}"
    run_dir = prepare_run_dir(args.output, experiment, False, args.overwrite, rt.is_main)
    if rt.is_main:
        save_args(run_dir, args)
    log = get_logger(run_dir, rt.is_main)
    log.info("scoring %s (%s) on %s %s: %d images%s", args.checkpoint, options["arch"], dataset_name, split_name,
             len(data.splits[split_name]), " with ten-crop" if args.ten_crop else "")
    predictions = predict_split(model, data.splits[split_name], rt, options["crop_size"], args.ten_crop,
                                args.batch_size, options["mean"], options["std"])
    train_labels = np.asarray(state["extra"].get("train_class_counts"), dtype=np.int64)
    # The baseline predicts the *training* set's majority class; rebuild labels from the stored counts.
    train_labels = np.repeat(np.arange(len(class_names)), train_labels)
    result = None
    if rt.is_main:
        result = write_evaluation(
            run_dir, predictions, train_labels, experiment=experiment, dataset=dataset_name,
            data_kind=args.data_kind, split=split_name, device=rt.device_name(), wall_seconds=watch.seconds,
            extra={"checkpoint": str(args.checkpoint), "ten_crop": bool(args.ten_crop),
                   "trained_on": options.get("dataset"), "load_stats": data.stats})
        log.info("%s %s: accuracy %.4f, macro-F1 %.4f (majority baseline %.4f)", dataset_name, split_name,
                 result["accuracy"], result["macro_f1"], majority_baseline(train_labels, predictions["label"].numpy()
                                                                           .astype(np.int64))["accuracy"])
    rt.close()
    return result


if __name__ == "__main__":
    main(parse_args_with_config(get_args_parser()))
