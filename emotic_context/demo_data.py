"""A small, learnable EMOTIC-layout dataset: ``python -m emotic_context.demo_data --out DIR``.

Writes ``DIR/emotic/<folder>/<file>.jpg`` and ``DIR/Annotations/Annotations.mat`` with the official
struct nesting (``scipy.io.savemat``): train persons with one annotator, val/test persons with three
annotators plus ``combined_*`` labels. On purpose it also holds what the real file holds: boxes
beyond the image (to clamp), persons with no category (kept, as the port keeps them) and persons with a
NaN continuous value (dropped). ``DEMO_DATA.txt`` marks the folder as demo data.

What makes it learnable: the *scene* (background colour and stripe frequency, 7 kinds) and the *person*
(a patterned figure, 6 kinds) together pick one of 42 label sets; with two persons of different kinds in
one image only the body stream can tell them apart. The label sets, their valence/arousal/dominance and the
box sizes are drawn from statistics of the real EMOTIC validation annotations (``demo_label_stats.json``:
category frequencies, co-occurrences, set sizes, VAD mean and covariance, box-size deciles; no annotation
rows), so the demo's category frequencies and co-occurrences follow the real ones.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from emotic_context.options import demo_data_parser
from shared_utils.cli import answer_help_first

answer_help_first(demo_data_parser, __name__)

import json
from pathlib import Path

import numpy as np
from PIL import Image

from emotic_context.dataset import CATEGORIES
from emotic_context.options import DEFAULT_PERSONS
from shared_utils.files import DEMO_MARKER, atomic_write_text, claim_output_folder

FOLDERS = ("mscoco/images", "framesdb/images", "ade20k/images", "emodb_small/images")
NUM_SCENES, NUM_PERSON_KINDS = 7, 6
SCENE_COLORS = np.array([[200, 60, 60], [60, 170, 60], [60, 80, 200], [210, 200, 70], [170, 70, 190],
                         [70, 190, 190], [120, 120, 120]], dtype=np.float32)
PERSON_COLORS = np.array([[250, 250, 250], [20, 20, 20], [250, 140, 0], [0, 90, 40], [150, 0, 60],
                          [90, 60, 30]], dtype=np.float32)
LABEL_SET_SEED = 0  # the 42 label sets are the same in every split and every demo dataset


STATS_FILE = Path(__file__).resolve().parent / "demo_label_stats.json"


def load_stats() -> dict:
    return json.loads(STATS_FILE.read_text())


def label_statistics_from_real(real_annotations_json: str | Path) -> dict:
    """Statistics (no annotation rows) of a COCO-style EMOTIC annotation file
    (``../shared/data/emotic/real_annotations``): category counts, pairwise co-occurrence counts, the
    distribution of label-set sizes, the mean and covariance of valence/arousal/dominance, and the deciles of
    the box sizes as fractions of the image."""
    data = json.loads(Path(real_annotations_json).read_text())
    sizes = {img["id"]: (img["width"], img["height"]) for img in data["images"]}
    labels = np.array([[c in a["annotations_categories"] for c in CATEGORIES] for a in data["annotations"]], float)
    vad = np.array([[a["annotations_continuous"][k] for k in ("valence", "arousal", "dominance")]
                    for a in data["annotations"]], float)
    fractions = {"width": [], "height": []}
    for ann in data["annotations"]:
        width, height = sizes[ann["image_id"]]
        x1, y1, x2, y2 = ann["bbox"]
        fractions["width"].append(min(max((x2 - x1) / width, 0.05), 1.0))
        fractions["height"].append(min(max((y2 - y1) / height, 0.05), 1.0))
    set_sizes = np.bincount(labels.sum(1).astype(int), minlength=len(CATEGORIES) + 1)
    return {
        "source": f"statistics of {Path(real_annotations_json).name} ({len(labels)} persons); no annotation rows",
        "category_counts": dict(zip(CATEGORIES, labels.sum(0).astype(int).tolist())),
        "cooccurrence_counts": (labels.T @ labels).astype(int).tolist(),
        "set_size_counts": set_sizes.astype(int).tolist(),
        "vad_mean": vad.mean(0).round(4).tolist(),
        "vad_cov": np.cov(vad.T).round(4).tolist(),
        "box_fraction_deciles": {k: [round(float(q), 4) for q in np.quantile(v, np.linspace(0, 1, 11))]
                                 for k, v in fractions.items()},
    }


def draw_label_sets(stats: dict, count: int, rng: np.random.Generator) -> list[dict]:
    """``count`` label sets with VAD drawn from the statistics: the set size from the real size distribution,
    the first category by its frequency, each next one by how often it co-occurs with those already chosen;
    VAD from a Gaussian with the real mean and covariance, rounded to 1..10 as the annotations are."""
    counts = np.array([stats["category_counts"][c] for c in CATEGORIES], float)
    co = np.array(stats["cooccurrence_counts"], float)
    sizes = np.array(stats["set_size_counts"], float)
    sizes[0] = 0  # every prototype has at least one category
    out = []
    for _ in range(count):
        size = int(rng.choice(len(sizes), p=sizes / sizes.sum()))
        chosen = [int(rng.choice(len(CATEGORIES), p=counts / counts.sum()))]
        while len(chosen) < size:
            weights = np.prod(co[chosen] / np.maximum(counts[chosen, None], 1), axis=0)
            weights[chosen] = 0
            if weights.sum() <= 0:
                break
            chosen.append(int(rng.choice(len(CATEGORIES), p=weights / weights.sum())))
        vad = np.clip(np.round(rng.multivariate_normal(stats["vad_mean"], stats["vad_cov"])), 1, 10)
        out.append({"categories": [CATEGORIES[i] for i in sorted(chosen)], "vad": vad.tolist()})
    return out


def _from_deciles(rng, deciles: list[float]) -> float:
    """A draw from the distribution whose deciles are given (uniform inside each decile)."""
    k = int(rng.integers(10))
    return float(rng.uniform(deciles[k], deciles[k + 1]))


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
def _person_box(rng, width, height, beyond: bool, deciles: dict):
    box_w = max(4, min(width - 1, int(round(_from_deciles(rng, deciles["width"]) * width))))
    box_h = max(4, min(height - 1, int(round(_from_deciles(rng, deciles["height"]) * height))))
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
    stats = load_stats()
    label_sets = draw_label_sets(stats, NUM_SCENES * NUM_PERSON_KINDS, np.random.default_rng(LABEL_SET_SEED))
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
            box = _person_box(rng, width, height, rng.random() < beyond_fraction, stats["box_fraction_deciles"])
            drawn.append((kind, tuple(box)))
            label_set = label_sets[scene * NUM_PERSON_KINDS + kind]
            names = list(label_set["categories"])
            vad = tuple(float(v) for v in label_set["vad"])
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
    claim_output_folder(out, "emotic_context.demo_data", DEMO_MARKER)  # only an empty folder or ours
    persons = persons or DEFAULT_PERSONS
    rng = np.random.default_rng(seed)
    splits = {split: make_split(rng, split, n, out / "emotic", drop_fraction, size_range)
              for split, n in persons.items()}
    write_annotations_mat(out / "Annotations" / "Annotations.mat", splits)
    atomic_write_text(out / DEMO_MARKER, f"emotic_context demo data: seed={seed} persons={persons}\n")
    return out


def main(argv=None) -> None:
    parser = demo_data_parser()
    args = parser.parse_args(argv)
    if args.write_stats:
        atomic_write_text(STATS_FILE, json.dumps(label_statistics_from_real(args.write_stats), indent=1) + "\n")
        print(f"wrote {STATS_FILE}")
        return
    if not args.out:
        parser.error("--out is required")
    out = generate(args.out, {"train": args.train, "val": args.val, "test": args.test}, seed=args.seed)
    print(f"wrote demo EMOTIC layout to {out}")


if __name__ == "__main__":
    main()
