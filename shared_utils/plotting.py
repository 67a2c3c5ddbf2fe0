"""PNG figures people would rather look at than read: curves, confusion matrices, bars, overlays."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: never needs a display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import precision_recall_curve, roc_curve  # noqa: E402

from shared_utils.files import atomic_write


def _save(fig, out_png: str | Path) -> Path:
    out_png = Path(out_png)
    fig.tight_layout()
    atomic_write(out_png, lambda handle: fig.savefig(handle, format="png", dpi=120))
    plt.close(fig)
    return out_png


def plot_learning_curves(summary_csv: str | Path, out_png: str | Path, columns: Sequence[str] | None = None) -> Path:
    """One panel per metric column of a run's summary.csv against epoch (losses share a panel)."""
    with Path(summary_csv).open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise ValueError(f"{summary_csv} has no rows to plot")
    epochs = [float(r["epoch"]) for r in rows]

    def numeric(name):
        values = []
        for r in rows:
            try:
                values.append(float(r.get(name, "")))
            except ValueError:
                values.append(math.nan)
        return values

    if columns is None:
        columns = [c for c in rows[0] if c not in ("epoch", "lr", "epoch_seconds")
                   and not all(math.isnan(v) for v in numeric(c))]
    losses = [c for c in columns if "loss" in c]
    others = [c for c in columns if c not in losses]
    panels = ([losses] if losses else []) + [[c] for c in others]
    ncols = min(3, len(panels)) or 1
    nrows = math.ceil(len(panels) / ncols) or 1
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows), squeeze=False)
    for ax, panel in zip(axes.ravel(), panels):
        for name in panel:
            ax.plot(epochs, numeric(name), marker="o", markersize=3, label=name)
        ax.set_xlabel("epoch")
        ax.set_title(" / ".join(panel) if len(panel) < 3 else "losses")
        ax.grid(alpha=0.3)
        if len(panel) > 1:
            ax.legend(fontsize=8)
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    return _save(fig, out_png)


def plot_confusion_matrix(
    cm, class_names: Sequence[str], out_png: str | Path, normalize: bool = True, title: str | None = None
) -> Path:
    """Rows = true class. With ``normalize`` each row shows recall fractions (counts in brackets)."""
    cm = np.asarray(cm, dtype=np.float64)
    shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    size = max(4.0, 0.6 * len(class_names) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    im = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    fig.colorbar(im, ax=ax, fraction=0.046)
    ax.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right")
    ax.set_yticks(range(len(class_names)), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            text = f"{shown[i, j]:.2f}\n({int(cm[i, j])})" if normalize else f"{int(cm[i, j])}"
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="white" if shown[i, j] > 0.6 * (shown.max() or 1) else "black")
    ax.set_title(title or ("confusion matrix (row-normalised)" if normalize else "confusion matrix"))
    return _save(fig, out_png)


def plot_per_label_bars(
    values: dict[str, float | None], out_png: str | Path, title: str, ylabel: str, reference: float | None = None
) -> Path:
    """A bar per label (undefined values drawn as an empty slot marked n/a); optional reference line."""
    names = list(values)
    heights = [np.nan if values[n] is None else float(values[n]) for n in names]
    fig, ax = plt.subplots(figsize=(max(5.0, 0.45 * len(names) + 2), 3.8))
    ax.bar(range(len(names)), np.nan_to_num(heights), color="tab:blue")
    for i, h in enumerate(heights):
        ax.text(i, 0 if np.isnan(h) else h, "n/a" if np.isnan(h) else f"{h:.2f}", ha="center", va="bottom",
                fontsize=7)
    if reference is not None:
        ax.axhline(reference, color="tab:red", linestyle="--", linewidth=1, label=f"reference {reference:g}")
        ax.legend(fontsize=8)
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, out_png)


def _curves(kind: str, y_true, scores, label_names: Sequence[str], out_png):
    y_true = np.asarray(y_true) > 0.5
    scores = np.asarray(scores, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    for j, name in enumerate(label_names):
        positives = y_true[:, j].sum()
        if positives == 0 or (kind == "roc" and positives == len(y_true)):
            continue  # undefined curve for this split
        if kind == "roc":
            x, y, _ = roc_curve(y_true[:, j], scores[:, j])
        else:
            y, x, _ = precision_recall_curve(y_true[:, j], scores[:, j])
        ax.plot(x, y, linewidth=1, label=name)
    if kind == "roc":
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
    else:
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=6, ncol=2 if len(label_names) > 10 else 1)
    ax.set_title("ROC curves" if kind == "roc" else "precision-recall curves")
    return _save(fig, out_png)


def plot_roc_curves(y_true, scores, label_names: Sequence[str], out_png: str | Path) -> Path:
    return _curves("roc", y_true, scores, label_names, out_png)


def plot_pr_curves(y_true, scores, label_names: Sequence[str], out_png: str | Path) -> Path:
    return _curves("pr", y_true, scores, label_names, out_png)


def plot_matrix(
    matrix, row_names: Sequence[str], col_names: Sequence[str], out_png: str | Path, title: str, fmt: str = ".2f"
) -> Path:
    """An annotated heat map of any matrix (e.g. a label-sensitivity matrix)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(max(4.0, 0.7 * len(col_names) + 2), max(3.5, 0.6 * len(row_names) + 1.5)))
    im = ax.imshow(matrix, cmap="viridis")
    fig.colorbar(im, ax=ax, fraction=0.046)
    ax.set_xticks(range(len(col_names)), col_names, rotation=45, ha="right")
    ax.set_yticks(range(len(row_names)), row_names)
    finite = matrix[np.isfinite(matrix)]
    mid = (finite.max() + finite.min()) / 2 if finite.size else 0
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            ax.text(j, i, format(matrix[i, j], fmt), ha="center", va="center", fontsize=7,
                    color="black" if matrix[i, j] > mid else "white")
    ax.set_title(title)
    return _save(fig, out_png)


def overlay_heatmap(image, heatmap, alpha: float = 0.5) -> np.ndarray:
    """Blend a [0, 1] heat map (jet colours) over an image; returns uint8 HxWx3.

    ``image`` is uint8 HxW or HxWx3 (or float in [0, 1]); the heat map is resized to it.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    heatmap = np.asarray(heatmap, dtype=np.float64)
    if heatmap.shape != image.shape[:2]:
        from PIL import Image

        heatmap = np.asarray(
            Image.fromarray(heatmap.astype(np.float32)).resize((image.shape[1], image.shape[0]), Image.BILINEAR)
        )
    colours = plt.get_cmap("jet")(np.clip(heatmap, 0, 1))[:, :, :3] * 255
    return np.clip((1 - alpha) * image + alpha * colours, 0, 255).astype(np.uint8)


def save_image_grid(
    images: Sequence[np.ndarray], out_png: str | Path, titles: Sequence[str] | None = None, ncols: int | None = None,
    cell_size: float = 2.2, suptitle: str | None = None,
) -> Path:
    """Images (uint8 HxW or HxWx3, or float in [0, 1]) in a grid with optional titles under each."""
    if not images:
        raise ValueError("save_image_grid needs at least one image")
    ncols = ncols or min(len(images), 6)
    nrows = math.ceil(len(images) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(cell_size * ncols, cell_size * nrows + 0.3), squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if k >= len(images):
            continue
        img = np.asarray(images[k])
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0 if img.ndim == 2 else None,
                  vmax=(255 if img.dtype == np.uint8 else 1) if img.ndim == 2 else None)
        if titles is not None and k < len(titles):
            ax.set_title(titles[k], fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    return _save(fig, out_png)
