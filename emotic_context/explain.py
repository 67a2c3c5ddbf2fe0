"""Grad-CAM on both streams for one person and one category:

    python -m emotic_context.explain --experiment_path RUN --image photo.jpg --bbox x1 y1 x2 y2 \
        --category Happiness [--method gradcam|gradcam++|eigencam] [--out RUN/gradcam]

Each stream is explained with the other stream's input held fixed; the maps come from the last
ResNet block of that stream (7x7 cells at the port's 224 px context, 4x4 at its 128 px body) and
are drawn over the stream's input image.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from emotic_context.options import explain_parser
from shared_utils.cli import answer_help_first

answer_help_first(explain_parser, __name__)

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

import emotic_context  # noqa: F401
from emotic_context.dataset import CATEGORIES, black_out_person, clamp_bbox, context_and_body, normalized_box, read_rgb
from emotic_context.model import model_from_checkpoint
from emotic_context.presets import stream_transforms
from shared_utils import plotting
from shared_utils.files import make_folder
from shared_utils.gradcam import CamExplainer, preset_target_layers


class _OneStream(nn.Module):
    """The model as a function of one stream's input; the other input is fixed."""

    def __init__(self, model: nn.Module, fixed: torch.Tensor, stream: str):
        super().__init__()
        self.model, self.fixed, self.stream = model, fixed, stream

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fixed = self.fixed.expand(x.shape[0], *self.fixed.shape[1:])
        context, body = (x, fixed) if self.stream == "context" else (fixed, x)
        return self.model(context, body)[0]


def explain_person(model, arch: dict, image: np.ndarray, bbox, category: int, method: str = "gradcam"):
    """``{"context": (map, image_uint8), "body": (map, image_uint8)}`` with maps in [0, 1] at the input size."""
    clamped = clamp_bbox(bbox, image.shape[1], image.shape[0])
    context, body = context_and_body(image, clamped, arch["context_size"], arch["body_size"])
    if arch["mask_body"]:
        context = black_out_person(context, normalized_box(clamped, (image.shape[1], image.shape[0])))
    context_tf, body_tf = stream_transforms(train=False)
    inputs = {"context": context_tf(Image.fromarray(context))[None], "body": body_tf(Image.fromarray(body))[None]}
    pictures = {"context": context, "body": body}
    model.eval()
    out = {}
    for stream, other in (("context", "body"), ("body", "context")):
        wrapper = _OneStream(model, inputs[other], stream)
        trunk = model.context_trunk if stream == "context" else model.body_trunk
        with CamExplainer(wrapper, preset_target_layers(trunk, "resnet"), method=method) as cam:
            heatmap = cam(inputs[stream], target_index=category, multilabel=False)[0]
        out[stream] = (heatmap, pictures[stream])
    return out


def main(argv=None) -> Path:
    parser = explain_parser()
    args = parser.parse_args(argv)
    if args.category not in CATEGORIES:
        raise SystemExit(f"error: unknown category {args.category!r}; one of: {', '.join(CATEGORIES)}")
    run_dir = Path(args.experiment_path)
    model, arch, _ = model_from_checkpoint(args.checkpoint, run_dir)
    arch = {**arch, **{k: getattr(args, k) for k in ("context_size", "body_size") if getattr(args, k)}}
    image = read_rgb(args.image)
    maps = explain_person(model, arch, image, args.bbox, CATEGORIES.index(args.category), args.method)
    for stream, (heatmap, _) in maps.items():
        if heatmap.max() <= 0:  # reported, never passed off as an explanation
            side = arch[f"{stream}_size"]
            reason = (f"at {side} px the last block's map is {max(1, side // 32)}x{max(1, side // 32)}, so it cannot "
                      f"vary; pass --{stream}_size 224 (or more)") if side < 64 else \
                f"no location raises the {args.category} score (Grad-CAM keeps positive evidence only)"
            print(f"warning: the {stream} map is all zero: {reason}")
    out_dir = Path(args.out) if args.out else run_dir / "gradcam"
    make_folder(out_dir)
    name = args.category.replace("/", "_")
    panels = [plotting.overlay_heatmap(picture, heatmap) for heatmap, picture in maps.values()]
    path = out_dir / f"{Path(args.image).stem}_{name}_{args.method}.png"
    if (path.exists() or path.with_suffix(".npz").exists()) and not args.overwrite:
        raise SystemExit(f"error: {path} already exists (another image with the same name?); pass --out DIR or "
                         "--overwrite")
    titles = [f"{stream}: {args.category}" + (" (all zero)" if heatmap.max() <= 0 else "")
              for stream, (heatmap, _) in maps.items()]
    plotting.save_image_grid(panels, path, titles=titles)
    np.savez(path.with_suffix(".npz"), context=maps["context"][0], body=maps["body"][0])
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
