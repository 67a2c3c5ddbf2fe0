"""Predict stimuli maps for new images (no GUI): the common code of ``infer_FCNEL.py`` and ``infer_EmoFCNEL.py``.

What it writes, and how outputs are named: ``options.INFER_DESCRIPTION`` (their ``--help``).
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path, PurePosixPath

import numpy as np
import torch
import yaml
from PIL import Image, UnidentifiedImageError

from emotionroi_ex import EMOTIONS
from emotionroi_ex.model import EmoFCNEL, build_fcnel
from emotionroi_ex.presets import PairedEvalPreset
from emotionroi_ex.scoring import forward_map
from shared_utils.checkpoint import load_model_weights
from shared_utils.files import atomic_write, pil_convert
from shared_utils.plotting import overlay_heatmap
from shared_utils.runtime import Runtime, progress

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}




def _relative_to_common(paths: list[Path]) -> list[PurePosixPath]:
    common = Path(os.path.commonpath([str(p.parent) for p in paths]))
    return [PurePosixPath(p.relative_to(common).as_posix()) for p in paths]


def _read_list(source: Path) -> list[tuple[Path, PurePosixPath]]:
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise SystemExit(f"error: {source}: neither an image ({', '.join(sorted(IMAGE_SUFFIXES))}) "
                         "nor a text file listing images") from None
    relative, absolute = [], []
    for line_no, line in enumerate(lines, 1):
        entry = line.strip()
        if not entry:
            continue
        path = Path(entry)
        full = path if path.is_absolute() else source.parent / path
        if not full.is_file():
            raise SystemExit(f"error: {source}: line {line_no}: {full} does not exist")
        if path.is_absolute():
            absolute.append(full)
        else:  # as written, without any leading ./ or ../
            rel = PurePosixPath(*[part for part in path.as_posix().split("/") if part not in ("", ".", "..")])
            relative.append((full, rel))
    return relative + list(zip(absolute, _relative_to_common(absolute))) if absolute else relative


def list_inputs(source: str | Path) -> list[tuple[Path, PurePosixPath]]:
    """(image path, relative path that names its outputs) pairs, each image checked to open."""
    source = Path(source)
    if source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        pairs = [(p, PurePosixPath(p.relative_to(source).as_posix())) for p in files]
    elif source.is_file() and source.suffix.lower() in IMAGE_SUFFIXES:
        pairs = [(source, PurePosixPath(source.name))]
    elif source.is_file():
        pairs = _read_list(source)
    else:
        raise SystemExit(f"error: {source}: no such image, folder or list file")
    if not pairs:
        raise SystemExit(f"error: {source}: no images found ({', '.join(sorted(IMAGE_SUFFIXES))})")
    for path, _ in pairs:  # before anything is written: a bad file stops the run naming it
        try:
            with Image.open(path) as img:
                img.verify()
        except (UnidentifiedImageError, OSError, SyntaxError) as exc:
            raise SystemExit(f"error: {path}: not a readable image ({type(exc).__name__})") from None
    return pairs


def output_stems(rels: list[PurePosixPath]) -> list[str]:
    """Output name stems: the relative path without its suffix, or with it where two inputs would collide."""
    stems = [rel.with_suffix("").as_posix() for rel in rels]
    counts = Counter(stems)
    return [stem if counts[stem] == 1 else f"{stem}_{rel.suffix.lstrip('.').lower()}" for stem, rel in zip(stems, rels)]


def run_options(weights: Path) -> dict:
    path = weights.parent / "args.yaml"
    return yaml.safe_load(path.read_text()) if path.is_file() else {}


class MapPredictor:
    """A trained FCNEL / EmoFCNEL (options from the run's args.yaml beside the checkpoint, ``overrides`` win):
    ``maps(image, labels) -> {label: map in [0, 1] at the image's size}`` (label None for FCNEL)."""

    def __init__(self, weights: str | Path, conditioned: bool | None = None, device: str = "auto", threads: int = 0,
                 max_side: int | None = None, **overrides):
        weights = Path(weights)
        saved = {**run_options(weights), **{k: v for k, v in overrides.items() if v is not None}}
        if conditioned is None:  # from the run: EmoFCNEL runs record their label embedding size
            conditioned = "embed_dim" in saved
        self.conditioned = conditioned
        arch = saved.get("arch") or ("fcn_resnet50" if conditioned else "fcn32s")
        backbone = saved.get("backbone") or ("resnet50" if conditioned else "alexnet")
        self.device = Runtime.from_args(device, amp=False, threads=threads).device
        if conditioned:
            self.model = EmoFCNEL(arch, backbone, None, embed_dim=saved.get("embed_dim") or 6,
                                  upsample=saved.get("upsample"))
        else:
            self.model = build_fcnel(arch, backbone, None, upsample=saved.get("upsample"))
        load_model_weights(self.model, weights)
        self.model.to(self.device).eval()
        self.preset = PairedEvalPreset(max_side)

    @torch.no_grad()
    def maps(self, image: Image.Image, labels=(None,)) -> dict:
        tensor, _ = self.preset(image, image.convert("L"))
        out = {}
        for label in labels:
            label_t = None if label is None else torch.tensor([EMOTIONS.index(label)], device=self.device)
            pred = forward_map(self.model, tensor[None].to(self.device), label_t, (image.height, image.width))
            out[label] = np.clip(pred[0].cpu().numpy(), 0.0, 1.0)  # the ground truth's scale, as scored
        return out


def main(args, conditioned: bool) -> list[Path]:
    weights = Path(args.weights)
    out_root = Path(args.output)
    if out_root.exists() and not args.overwrite:
        raise SystemExit(f"error: {out_root} already exists; choose another --output or pass --overwrite")
    if out_root.exists() and not out_root.is_dir():
        raise SystemExit(f"error: {out_root} is a file, not a folder")
    inputs = list_inputs(args.input)
    stems = output_stems([rel for _, rel in inputs])
    predictor = MapPredictor(weights, conditioned, args.device, args.threads, args.max_side, arch=args.arch,
                             backbone=args.backbone, upsample=args.upsample,
                             embed_dim=getattr(args, "embed_dim", None))
    labels = ([None] if not conditioned else list(EMOTIONS) if args.label == "all" else [args.label])
    written = []
    for (path, _), stem in progress(list(zip(inputs, stems)), desc="infer"):
        with Image.open(path) as img:
            image = pil_convert(img, "RGB")
        for label, heat in predictor.maps(image, labels).items():
            name = stem + (f"_{label}" if label else "")
            map_path, overlay_path = out_root / f"{name}_map.png", out_root / f"{name}_overlay.jpg"
            map_img = Image.fromarray((heat * 255).round().astype(np.uint8), mode="L")
            overlay = Image.fromarray(overlay_heatmap(np.asarray(image), heat, alpha=args.alpha))
            atomic_write(map_path, lambda h, im=map_img: im.save(h, format="PNG"))
            atomic_write(overlay_path, lambda h, im=overlay: im.save(h, format="JPEG", quality=90))
            written += [map_path, overlay_path]
    print(f"wrote {len(written) // 2} maps and overlays to {out_root}")
    return written
