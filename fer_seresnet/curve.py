"""Validation accuracy versus wall-clock time from a run's summary.csv (the README's accuracy-vs-time figure).

    python -m fer_seresnet.curve runs/fer_seresnet/fer2013_se_cnn_cpu45min/summary.csv --out curve.png \
        [--reference 0.7328 "VGG variant (FER2013 test)"]
"""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from shared_utils.cli import ArgumentParser
from shared_utils.files import make_folder


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
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("summary_csv")
    parser.add_argument("--out", required=True)
    parser.add_argument("--reference", nargs=2, action="append", default=[], metavar=("VALUE", "LABEL"),
                        help="horizontal reference line (repeatable)")
    parser.add_argument("--title", default="validation accuracy vs training time")
    args = parser.parse_args(argv)
    minutes, accuracy = read_curve(args.summary_csv)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([0, *minutes], [None, *accuracy], marker="o", label="ours (val = 10% holdout of Training)")
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
    make_folder(out.parent)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


if __name__ == "__main__":
    main()
