"""A small, learnable EMOTIC-layout dataset: ``python -m emotic_context.demo_data --out DIR``.

Writes ``DIR/emotic/<folder>/<file>.jpg`` and ``DIR/Annotations/Annotations.mat`` with the official
struct nesting (``scipy.io.savemat``): train persons with one annotator, val/test persons with three
annotators plus ``combined_*`` labels. On purpose it also holds what the real file holds: boxes
beyond the image (to clamp), persons with no category and persons with a NaN continuous value (to
drop).

What makes it learnable: the *scene* (background colour and stripe frequency, 7 kinds) sets two
categories and the arousal; the *person* (a patterned figure, 6 kinds) sets two other categories
and the valence; dominance is their rounded mean. The 7 x 2 + 6 x 2 = 26 categories are all used,
and with two persons of different kinds in one image only the body stream can tell them apart.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from emotic_context.dataset import CATEGORIES, DEMO_MARKER
from shared_utils.checkpoint import atomic_write_text

FOLDERS = ("mscoco/images", "framesdb/images", "ade20k/images", "emodb_small/images")
NUM_SCENES, NUM_PERSON_KINDS = 7, 6
SCENE_COLORS = np.array([[200, 60, 60], [60, 170, 60], [60, 80, 200], [210, 200, 70], [170, 70, 190],
                         [70, 190, 190], [120, 120, 120]], dtype=np.float32)
PERSON_COLORS = np.array([[250, 250, 250], [20, 20, 20], [250, 140, 0], [0, 90, 40], [150, 0, 60],
                          [90, 60, 30]], dtype=np.float32)
DEFAULT_PERSONS = {"train": 320, "val": 80, "test": 120}


def scene_categories(scene: int) -> list[str]:
    return [CATEGORIES[2 * scene], CATEGORIES[2 * scene + 1]]


def person_categories(kind: int) -> list[str]:
    return [CATEGORIES[14 + 2 * kind], CATEGORIES[15 + 2 * kind]]


def true_vad(scene: int, kind: int) -> tuple[float, float, float]:
    valence = float(round(1.0 + 1.6 * kind))
    arousal = 2.0 + scene
    return valence, arousal, float(np.round((valence + arousal) / 2))


def render_image(rng: np.random.Generator, width: int, height: int, scene: int,
                 persons: list[tuple[int, tuple[int, int, int, int]]]) -> np.ndarray:
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    stripes = 0.5 + 0.5 * np.sin(2 * np.pi * yy * (scene + 1) / 40.0)
    image = SCENE_COLORS[scene][None, None, :] * (0.6 + 0.4 * stripes[..., None])
    for kind, (x1, y1, x2, y2) in persons:
        x1c, y1c, x2c, y2c = max(0, x1), max(0, y1), min(width, x2), min(height, y2)
        if x2c <= x1c or y2c <= y1c:
            continue
        # A checker whose period depends on the kind, so colour is not the only cue.
        period = 2 + kind
        patch_y, patch_x = np.mgrid[y1c:y2c, x1c:x2c]
        checker = ((patch_y // period + patch_x // period) % 2).astype(np.float32)[..., None]
        image[y1c:y2c, x1c:x2c] = PERSON_COLORS[kind] * (0.75 + 0.25 * checker)
    image += rng.normal(0, 12, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- MATLAB struct building
def _struct(shape: tuple[int, int], fields: list[str]) -> np.ndarray:
    return np.empty(shape, dtype=[(name, object) for name in fields])


def _cell(strings: list[str]) -> np.ndarray:
    cell = np.empty((1, len(strings)) if strings else (0, 0), dtype=object)
    for i, s in enumerate(strings):
        cell[0, i] = s
    return cell


def _vad_struct(vad) -> np.ndarray:
    out = _struct((1, 1), ["valence", "arousal", "dominance"])
    for name, value in zip(("valence", "arousal", "dominance"), vad):
        out[0, 0][name] = np.array([[value]], dtype=np.float64)
    return out


def person_struct_array(persons: list[dict], split: str) -> np.ndarray:
    """A 1xP person struct array with the train or val/test field list of FORMATS.md."""
    if split == "train":
        fields = ["body_bbox", "annotations_categories", "annotations_continuous", "gender", "age"]
    else:
        fields = ["body_bbox", "annotations_categories", "combined_categories", "annotations_continuous",
                  "combined_continuous", "gender", "age"]
    out = _struct((1, len(persons)), fields)
    for i, p in enumerate(persons):
        rec = out[0, i]
        rec["body_bbox"] = np.asarray(p["bbox"], dtype=np.float64).reshape(1, 4)
        annotators = p["annotators"]  # list of (categories, vad)
        cats = _struct((1, len(annotators)), ["categories"])
        conts = _struct((1, len(annotators)), ["valence", "arousal", "dominance"])
        for a, (names, vad) in enumerate(annotators):
            cats[0, a]["categories"] = _cell(names)
            for name, value in zip(("valence", "arousal", "dominance"), vad):
                conts[0, a][name] = np.array([[value]], dtype=np.float64)
        rec["annotations_categories"] = cats
        rec["annotations_continuous"] = conts
        if split != "train":
            rec["combined_categories"] = _cell(p["combined_categories"])
            rec["combined_continuous"] = _vad_struct(p["combined_continuous"])
        rec["gender"] = p["gender"]
        rec["age"] = p["age"]
    return out


def image_struct_array(images: list[dict], split: str) -> np.ndarray:
    out = _struct((1, len(images)), ["filename", "folder", "image_size", "original_database", "person"])
    for i, image in enumerate(images):
        rec = out[0, i]
        rec["filename"] = image["filename"]
        rec["folder"] = image["folder"]
        size = _struct((1, 1), ["n_col", "n_row"])
        size[0, 0]["n_col"] = np.array([[image["width"]]], dtype=np.float64)
        size[0, 0]["n_row"] = np.array([[image["height"]]], dtype=np.float64)
        rec["image_size"] = size
        database = _struct((1, 1), ["name", "info"])
        database[0, 0]["name"] = image["folder"].split("/")[0]
        database[0, 0]["info"] = _struct((1, 1), ["note"])
        database[0, 0]["info"][0, 0]["note"] = "synthetic"
        rec["original_database"] = database
        rec["person"] = person_struct_array(image["persons"], split)
    return out


def write_annotations_mat(path: str | Path, splits: dict[str, list[dict]]) -> Path:
    from scipy.io import savemat

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    savemat(str(path), {split: image_struct_array(images, split) for split, images in splits.items()},
            do_compression=False, oned_as="row")
    return path


# --------------------------------------------------------------------------- the generator
def _person_box(rng, width, height, beyond: bool):
    box_w = int(rng.integers(width // 4, width // 2))
    box_h = int(rng.integers(height // 2, int(height * 0.85)))
    x1 = int(rng.integers(0, width - box_w))
    y1 = int(rng.integers(0, height - box_h))
    box = [x1, y1, x1 + box_w, y1 + box_h]
    if beyond:  # the real annotations have boxes past the border
        box = [box[0] - int(rng.integers(1, 15)), box[1], box[2] + int(rng.integers(5, 30)), box[3] + 7]
    return box


def make_split(rng, split: str, num_persons: int, image_dir: Path | None, drop_fraction: float = 0.04,
               size_range=((80, 112), (64, 88)), beyond_fraction: float = 0.1) -> list[dict]:
    """Images of one split (1 or 2 persons each) until ``num_persons`` persons are made; writes the JPEGs
    unless ``image_dir`` is None."""
    images, made = [], 0
    while made < num_persons:
        index = len(images)
        width = int(rng.integers(*size_range[0]))
        height = int(rng.integers(*size_range[1]))
        scene = int(rng.integers(NUM_SCENES))
        count = min(num_persons - made, 1 if rng.random() < 0.6 else 2)
        persons, drawn = [], []
        for _ in range(count):
            kind = int(rng.integers(NUM_PERSON_KINDS))
            box = _person_box(rng, width, height, rng.random() < beyond_fraction)
            drawn.append((kind, tuple(box)))
            names = scene_categories(scene) + person_categories(kind)
            vad = true_vad(scene, kind)
            fault = rng.random()
            if fault < drop_fraction / 2:
                names = []  # a person with no category: dropped by mat2py
            elif fault < drop_fraction:
                vad = (float("nan"), vad[1], vad[2])  # a NaN valence: dropped by mat2py
            if split == "train":
                annotators = [(names, tuple(float(v) for v in vad))]
                persons.append({"bbox": box, "annotators": annotators})
            else:
                annotators = []
                for a in range(3):
                    # Annotators agree on the categories except one who may leave one out; VAD jitters by 1.
                    kept = names if a != 2 or rng.random() < 0.5 else names[:-1]
                    jitter = rng.integers(-1, 2, 3)
                    annotators.append((kept, tuple(float(np.clip(v + j, 1, 10)) for v, j in zip(vad, jitter))))
                combined_vad = tuple(float(np.mean([ann[1][d] for ann in annotators])) for d in range(3))
                persons.append({"bbox": box, "annotators": annotators, "combined_categories": names,
                                "combined_continuous": combined_vad})
            persons[-1]["gender"] = "Male" if rng.random() < 0.5 else "Female"
            persons[-1]["age"] = ("Adult", "Teenager", "Kid")[int(rng.integers(3))]
        folder = FOLDERS[index % len(FOLDERS)]
        filename = f"demo_{split}_{index:06d}.jpg"
        if image_dir is not None:
            target = image_dir / folder / filename
            target.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(render_image(rng, width, height, scene, drawn)).save(target, quality=92)
        images.append({"filename": filename, "folder": folder, "width": width, "height": height, "persons": persons})
        made += count
    return images


def generate(out: str | Path, persons: dict[str, int] | None = None, seed: int = 0, drop_fraction: float = 0.04,
             size_range=((80, 112), (64, 88))) -> Path:
    """Write the demo dataset under ``out`` (``out/emotic``, ``out/Annotations/Annotations.mat``)."""
    out = Path(out)
    persons = persons or DEFAULT_PERSONS
    rng = np.random.default_rng(seed)
    splits = {split: make_split(rng, split, n, out / "emotic", drop_fraction, size_range)
              for split, n in persons.items()}
    write_annotations_mat(out / "Annotations" / "Annotations.mat", splits)
    atomic_write_text(out / DEMO_MARKER, f"emotic_context demo data: seed={seed} persons={persons}\n")
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="dataset root to write (emotic/ and Annotations/ inside)")
    parser.add_argument("--train", type=int, default=DEFAULT_PERSONS["train"], help="persons in train")
    parser.add_argument("--val", type=int, default=DEFAULT_PERSONS["val"])
    parser.add_argument("--test", type=int, default=DEFAULT_PERSONS["test"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out = generate(args.out, {"train": args.train, "val": args.val, "test": args.test}, seed=args.seed)
    print(f"wrote demo EMOTIC layout to {out}")


if __name__ == "__main__":
    main()
