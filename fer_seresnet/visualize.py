"""The paper's interpretation figures: feature maps of each stage and Grad-CAM overlays for chosen faces.

    python -m fer_seresnet.visualize --checkpoint runs/fer_seresnet/fer2013_se_resnet18/checkpoint_best.pt \
        --data-path data/fer2013 --split public_test --per-class 2 --out runs/fer_seresnet/figures

Writes into ``--out``: ``feature_maps_<n>.png`` (one row per stage, the ``--channels`` most active channels of each),
``gradcam_grid.png`` (each face and its Grad-CAM overlay for the predicted class, titled true / predicted),
``gradcam_mean.png`` (the average map over all chosen faces) and ``gradcam_regions.json`` (the share of the average
map falling in the upper, middle and lower thirds of the crop: image thirds, not landmark-placed regions).
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from fer_seresnet.options import visualize_parser as get_args_parser
from shared_utils.cli import answer_help_first

answer_help_first(get_args_parser, __name__)

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from fer_seresnet.dataset import CLASS_NAMES, load_dataset
from fer_seresnet.model import build_model
from fer_seresnet.presets import ClassificationPresetEval
from fer_seresnet.scoring import choose_test_split, model_from_checkpoint
from shared_utils import plotting
from shared_utils.files import make_folder
from shared_utils.gradcam import CamExplainer
from shared_utils.runtime import Runtime


def choose_indices(labels: np.ndarray, per_class: int, indices: list[int] | None,
                   num_classes: int = len(CLASS_NAMES)) -> list[int]:
    if indices:
        bad = [i for i in indices if not 0 <= i < len(labels)]
        if bad:
            raise SystemExit(f"error: --indices {bad} out of range (split has {len(labels)} images)")
        return list(indices)
    chosen = []
    for label in range(num_classes):
        chosen += np.flatnonzero(labels == label)[:per_class].tolist()
    return chosen


def _upsample(image: np.ndarray, factor: int) -> np.ndarray:
    return np.kron(image, np.ones((factor, factor), dtype=image.dtype))


def feature_map_figures(model, inputs: torch.Tensor, crops: np.ndarray, out: Path, channels: int) -> list[Path]:
    """Per image: the input, then for each stage its ``channels`` most active maps (min-max scaled)."""
    paths = []
    with torch.no_grad():
        stages = model.forward_stages(inputs)
    for n in range(inputs.shape[0]):
        # First row: the input alone; then one row per stage, so each stage starts a new row.
        grid = [crops[n]] + [np.zeros_like(crops[n])] * (channels - 1)
        grid_titles = ["input"] + [""] * (channels - 1)
        for s, fmap in enumerate(stages):
            maps = fmap[n].float().cpu().numpy()
            top = np.argsort(maps.mean((1, 2)))[::-1][:channels]
            for rank, c in enumerate(top):
                m = maps[c]
                grid.append((m - m.min()) / (m.max() - m.min() + 1e-8))
                size = f" ({m.shape[0]}x{m.shape[1]})" if rank == 0 else ""
                grid_titles.append(f"stage {s + 1}{size} ch {c}")
        path = out / f"feature_maps_{n}.png"
        plotting.save_image_grid(grid, path, titles=grid_titles, ncols=channels)
        paths.append(path)
    return paths


def region_shares(mean_map: np.ndarray) -> dict[str, float]:
    """Share of a [0, 1] map's mass in the upper / middle / lower thirds of the crop (image thirds, not landmarks)."""
    thirds = np.array_split(mean_map, 3, axis=0)
    total = float(mean_map.sum()) + 1e-12
    return {name: float(part.sum()) / total for name, part in zip(("upper_third", "middle_third", "lower_third"),
                                                                    thirds)}




def main(args: argparse.Namespace) -> dict:
    rt = Runtime.from_args(args.device, False, False, 0, False)
    model, options, _ = model_from_checkpoint(args.checkpoint, rt)
    model.eval()
    stages = len(model.stages)
    if not -stages <= args.stage < stages:
        raise SystemExit(f"error: --stage {args.stage} is out of range: the model has {stages} stages "
                         f"(0..{stages - 1}, or -1 for the last)")
    if args.per_class < 1 or args.channels < 1:
        raise SystemExit("error: --per-class and --channels must be at least 1")
    names = tuple(options.get("class_names", CLASS_NAMES))
    data = load_dataset(args.dataset or options.get("dataset", "fer2013"), args.data_path, args.ferplus_csv,
                        ferplus_classes=len(names))
    split_name = choose_test_split(data.splits, args.split, args.data_path)
    split = data.splits[split_name]
    chosen = choose_indices(split.labels.numpy(), args.per_class, args.indices, len(names))
    out = Path(args.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not args.overwrite:
        raise SystemExit(f"error: {out} already exists and is not empty; choose another --out or pass --overwrite")
    make_folder(out)
    preset = ClassificationPresetEval(options["crop_size"], False, options["mean"], options["std"])
    raw = split.images[chosen]
    inputs = rt.to_device(preset(raw))
    c = options["crop_size"]
    top = (raw.shape[-1] - c) // 2
    crops = raw[:, top:top + c, top:top + c].numpy()

    feature_map_figures(model, inputs, crops, out, args.channels)
    with torch.no_grad():
        predicted = model(inputs).argmax(1).cpu().numpy()
    with CamExplainer(model, [model.stages[args.stage]], method=args.method) as explainer:
        maps = explainer(inputs, [int(p) for p in predicted])
    overlays, titles = [], []
    for n, index in enumerate(chosen):
        truth, pred = names[int(split.labels[index])], names[int(predicted[n])]
        overlays += [_upsample(crops[n], 2), plotting.overlay_heatmap(_upsample(crops[n], 2), maps[n], alpha=0.45)]
        titles += [f"#{index} {truth}", f"pred {pred}"]
    plotting.save_image_grid(overlays, out / "gradcam_grid.png", titles=titles, ncols=8)
    mean_map = maps.mean(0)
    mean_face = crops.astype(np.float32).mean(0).astype(np.uint8)
    plotting.save_image_grid([mean_face, plotting.overlay_heatmap(mean_face, mean_map / (mean_map.max() + 1e-8))],
                             out / "gradcam_mean.png", titles=["mean face", f"mean {args.method}"], ncols=2)
    shares = region_shares(mean_map)
    # The same shares from an untrained network of the same architecture, on the same faces and target classes:
    # where Grad-CAM's mass falls before any learning (centre bias of padding and pooling), the bar a claim about
    # what the trained network "looks at" has to clear.
    torch.manual_seed(args.baseline_seed)
    untrained = rt.prepare_model(build_model(options["arch"], len(names), options["width"],
                                             options.get("dropout", 0.0))).eval()
    with CamExplainer(untrained, [untrained.stages[args.stage]], method=args.method) as explainer:
        untrained_shares = region_shares(explainer(inputs, [int(p) for p in predicted]).mean(0))
    summary = {"checkpoint": str(args.checkpoint), "split": split_name, "indices": chosen, "method": args.method,
               "stage": args.stage, "region_shares": shares, "untrained_region_shares": untrained_shares,
               "predicted": [names[int(p)] for p in predicted]}
    (out / "gradcam_regions.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote feature maps and {args.method} figures for {len(chosen)} faces to {out}; "
          f"mean-map share upper/middle/lower: " + " / ".join(f"{v:.2f}" for v in shares.values())
          + " (untrained network: " + " / ".join(f"{v:.2f}" for v in untrained_shares.values()) + ")")
    return summary


if __name__ == "__main__":
    main(get_args_parser().parse_args())
