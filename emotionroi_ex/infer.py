"""Predict stimuli maps for new images (no GUI): the common code of ``infer_FCNEL.py`` and ``infer_EmoFCNEL.py``.

For every image in ``--input`` (a folder, searched recursively, or a text file listing one path a
line) writes ``<output>/<relative path stem>_map.png`` (grayscale, the map min-max scaled to
0..255 at the image's size) and ``..._overlay.jpg`` (the map in jet colours over the photo).
The network's options (arch, backbone, embed_dim) are read from the ``args.yaml`` saved beside the
checkpoint; flags override them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import yaml
from PIL import Image

from emotionroi_ex import EMOTIONS
from emotionroi_ex.dataset import load_rgb
from emotionroi_ex.evaluate import forward_map
from emotionroi_ex.model import ARCHS, BACKBONES, FCNEL, EmoFCNEL
from emotionroi_ex.presets import PairedEvalPreset
from shared_utils.checkpoint import atomic_write, load_model_weights
from shared_utils.metrics import normalize_map
from shared_utils.plotting import overlay_heatmap
from shared_utils.runtime import Runtime, progress

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


def get_args_parser(conditioned: bool) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", required=True, help="checkpoint_last.pt / checkpoint_best.pt of a training run")
    parser.add_argument("--input", required=True, help="image folder or a text file with one image path a line")
    parser.add_argument("--output", required=True, help="folder for the maps and overlays")
    parser.add_argument("--arch", choices=ARCHS, default=None, help="default: from the run's args.yaml")
    parser.add_argument("--backbone", choices=BACKBONES, default=None, help="default: from the run's args.yaml")
    parser.add_argument("--max-side", type=int, default=None, help="shrink the network input (maps keep image size)")
    parser.add_argument("--alpha", type=float, default=0.5, help="overlay opacity")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    if conditioned:
        parser.add_argument("--embed-dim", type=int, default=None)
        parser.add_argument("--label", default="all", choices=["all", *EMOTIONS],
                            help="emotion to condition on; 'all' writes one map per emotion")
    return parser


def list_inputs(source: str | Path) -> list[tuple[Path, Path]]:
    """(image path, output-relative path) pairs."""
    source = Path(source)
    if source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        pairs = [(p, p.relative_to(source)) for p in files]
    elif source.is_file():
        pairs = []
        for line_no, line in enumerate(source.read_text().splitlines(), 1):
            if not line.strip():
                continue
            path = Path(line.strip())
            path = path if path.is_absolute() else source.parent / path
            if not path.is_file():
                raise SystemExit(f"error: {source}: line {line_no}: {path} does not exist")
            pairs.append((path, Path(path.name)))
    else:
        raise SystemExit(f"error: {source}: no such folder or list file")
    if not pairs:
        raise SystemExit(f"error: {source}: no images found ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return pairs


def run_options(weights: Path) -> dict:
    path = weights.parent / "args.yaml"
    return yaml.safe_load(path.read_text()) if path.is_file() else {}


def main(args, conditioned: bool) -> list[Path]:
    weights = Path(args.weights)
    saved = run_options(weights)
    arch = args.arch or saved.get("arch") or ("fcn8s" if conditioned else "fcn32s")
    backbone = args.backbone or saved.get("backbone") or ("resnet50" if conditioned else "alexnet")
    device = Runtime.from_args(args.device, amp=False, threads=args.threads).device
    if conditioned:
        model = EmoFCNEL(arch, backbone, None, embed_dim=args.embed_dim or saved.get("embed_dim", 8))
    else:
        model = FCNEL(arch, backbone, None)
    load_model_weights(model, weights)
    model.to(device).eval()
    preset = PairedEvalPreset(args.max_side)
    labels = ([None] if not conditioned else list(EMOTIONS) if args.label == "all" else [args.label])
    out_root = Path(args.output)
    written = []
    for path, rel in progress(list_inputs(args.input), desc="infer"):
        image = load_rgb(path)
        tensor, _ = preset(image, image.convert("L"))
        for label in labels:
            label_t = None if label is None else torch.tensor([EMOTIONS.index(label)], device=device)
            with torch.no_grad():
                pred = forward_map(model, tensor[None].to(device), label_t, (image.height, image.width))
            heat = normalize_map(pred[0].cpu().numpy())
            stem = rel.with_suffix("").as_posix() + (f"_{label}" if label else "")
            map_path, overlay_path = out_root / f"{stem}_map.png", out_root / f"{stem}_overlay.jpg"
            map_img = Image.fromarray((heat * 255).round().astype(np.uint8), mode="L")
            overlay = Image.fromarray(overlay_heatmap(np.asarray(image), heat, alpha=args.alpha))
            atomic_write(map_path, lambda h, im=map_img: im.save(h, format="PNG"))
            atomic_write(overlay_path, lambda h, im=overlay: im.save(h, format="JPEG", quality=90))
            written += [map_path, overlay_path]
    print(f"wrote {len(written) // 2} maps and overlays to {out_root}")
    return written
