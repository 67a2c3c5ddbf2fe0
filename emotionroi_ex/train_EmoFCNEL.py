"""Train EmoFCNEL: the stimuli map conditioned on the emotion label, then measure how much the
label matters.

    python -m emotionroi_ex.train_EmoFCNEL --config emotionroi_ex/configs/emofcnel_reimpl.yaml \\
        --data-path data/EmotionROI --pretrained resnet50-0676ba61.pth

A learned embedding of the label is tiled over the image and concatenated to the RGB input.
After the usual test scoring (with each image's true label), the label-sensitivity analysis
predicts every test image's map under each of the six labels and reports, per pair of labels,
the mean absolute difference between the two raw predicted maps (the network regresses the
ground truth's [0, 1] scale), as a
matrix plot (``label_sensitivity.png``/``.csv``), plus the paper metric when the label is wrong.
The re-implementation found the label barely changes the map.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from emotionroi_ex.options import train_emofcnel_parser as get_args_parser
from shared_utils.cli import answer_help_first

answer_help_first(get_args_parser, __name__)


import numpy as np

from emotionroi_ex import EMOTIONS
from emotionroi_ex.map_training import predict_one, run
from emotionroi_ex.scoring import score_map
from shared_utils import plotting
from shared_utils.files import atomic_write_csv
from shared_utils.runs import parse_args_with_config
from shared_utils.runtime import progress


def label_sensitivity(model, test_set, rt, max_images: int | None = None):
    """(K x K mean |map_i - map_j|, K x K paper MAE against the ground truth when predicting with label j
    for images of emotion i) over the test images."""
    k = len(EMOTIONS)
    indices = list(range(len(test_set)))[: max_images or None]
    diff = np.zeros((k, k))
    mae_by_label = np.zeros((k, k))  # rows: true emotion, cols: label given
    counts = np.zeros(k)
    for i in progress(indices, desc="label sensitivity", enabled=rt.is_main):
        maps = [predict_one(model, test_set, i, rt, True, label=c) for c in range(k)]
        for a in range(k):
            for b in range(k):
                diff[a, b] += np.abs(maps[a] - maps[b]).mean()
        gt = test_set.gt_map(i)
        true = test_set.labels[i]
        counts[true] += 1
        for c in range(k):
            mae_by_label[true, c] += score_map(maps[c], gt)["mae"]
    diff /= max(len(indices), 1)
    with np.errstate(invalid="ignore"):
        mae_by_label = mae_by_label / counts[:, None]
    return diff, mae_by_label


def sensitivity_metrics(sensitivity_images: int | None):
    """The EmoFCNEL analysis added to results.json: how much the map moves with the label given, and the MAE with
    the true label against a wrong one (plots and a CSV in the output folder)."""
    def analyse(model, test_set, rt, out_dir, log) -> dict:
        diff, mae_by_label = label_sensitivity(model, test_set, rt, sensitivity_images)
        plotting.plot_matrix(diff, EMOTIONS, EMOTIONS, out_dir / "label_sensitivity.png",
                             "mean |map(label i) - map(label j)| on test images", fmt=".3f")
        plotting.plot_matrix(mae_by_label, EMOTIONS, EMOTIONS, out_dir / "mae_by_given_label.png",
                             "test MAE: rows true emotion, columns label given", fmt=".3f")
        atomic_write_csv(out_dir / "label_sensitivity.csv", ["label", *EMOTIONS],
                         [[EMOTIONS[a], *(f"{v:.6f}" for v in diff[a])] for a in range(len(EMOTIONS))])
        off_diag = diff[~np.eye(len(EMOTIONS), dtype=bool)]
        valid = ~np.isnan(mae_by_label).any(axis=1)
        true_mae = float(np.mean(np.diag(mae_by_label)[valid]))
        wrong_mae = float(np.mean(mae_by_label[valid][~np.eye(len(EMOTIONS), dtype=bool)[valid]]))
        log.info(f"label sensitivity: mean |map difference| between labels {off_diag.mean():.4f} "
                 f"(max {off_diag.max():.4f}); MAE with true label {true_mae:.4f}, with a wrong label {wrong_mae:.4f}")
        return {"label_sensitivity_mean": float(off_diag.mean()), "label_sensitivity_max": float(off_diag.max()),
                "mae_true_label": true_mae, "mae_wrong_label": wrong_mae}

    return analyse


def main(args):
    out_dir, _, rt, _, _ = run(args, conditioned=True, extra_metrics=sensitivity_metrics(args.sensitivity_images))
    rt.close()
    return out_dir


if __name__ == "__main__":
    main(parse_args_with_config(get_args_parser()))
