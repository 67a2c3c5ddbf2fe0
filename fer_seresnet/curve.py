"""Validation accuracy versus wall-clock time from a run's summary.csv (the README's accuracy-vs-time figure).

    python -m fer_seresnet.curve runs/fer_seresnet/fer2013_se_cnn_cpu45min/summary.csv [more summary.csv ...] \
        --out curve.png [--labels "SE-CNN" ...] [--reference 0.7328 "VGG variant (FER2013 test)"]

Curves given the same label (seeds of one network) share a colour and one legend entry.
"""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from fer_seresnet.options import curve_parser
from shared_utils.files import atomic_write


def read_curve(summary_csv: str | Path) -> tuple[list[float], list[float]]:
    path = Path(summary_csv)
    if not path.is_file():
        raise SystemExit(f"error: {path}: no such file")
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or "elapsed_seconds" not in rows[0] or "val_accuracy" not in rows[0]:
        raise SystemExit(f"error: {path}: needs elapsed_seconds and val_accuracy columns (a train.py summary.csv)")
    return [float(r["elapsed_seconds"]) / 60 for r in rows], [float(r["val_accuracy"]) for r in rows]


def main(argv: list[str] | None = None) -> Path:
    parser = curve_parser()
    args = parser.parse_args(argv)
    if args.labels and len(args.labels) != len(args.summary_csv):
        parser.error(f"--labels: {len(args.labels)} given for {len(args.summary_csv)} summary files")
    labels = args.labels or (["ours (val = 10% holdout of Training)"] if len(args.summary_csv) == 1
                             else [Path(summary_csv).parent.name for summary_csv in args.summary_csv])  # run folders
    fig, ax = plt.subplots(figsize=(6, 4))
    # Curves given the same label (seeds of one network) share a colour and one legend entry.
    colours = {label: f"C{i}" for i, label in enumerate(dict.fromkeys(labels))}
    in_legend: set[str] = set()
    for summary_csv, label in zip(args.summary_csv, labels, strict=True):
        minutes, accuracy = read_curve(summary_csv)
        ax.plot([0, *minutes], [None, *accuracy], marker="o", markersize=4, color=colours[label],
                label=None if label in in_legend else label)
        in_legend.add(label)
    for value, label in args.reference:
        ax.axhline(float(value), linestyle="--", color="gray")
        ax.text(0, float(value) + 0.005, label, fontsize=8, color="gray")
    ax.set_xlabel("wall-clock minutes (training)")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 0.8)
    ax.set_title(args.title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    out = Path(args.out)
    fig.tight_layout()
    atomic_write(out, lambda handle: fig.savefig(handle, format="png", dpi=110))  # never a half-written figure
    plt.close(fig)
    return out


if __name__ == "__main__":
    main()
