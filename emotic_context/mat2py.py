"""Convert EMOTIC annotations to the PyTorch port's per-split CSVs and (optionally) its npy cache.

    python mat2py.py --data_dir DATA [--save_dir_name emotic_pre] [--label all] [--generate_npy]
    python mat2py.py --data_dir DATA --from_csv [--generate_npy]     # start from the port's CSVs instead

Reads ``DATA/Annotations/Annotations.mat`` (images in ``DATA/emotic``), clamps boxes to the image and
keeps persons by the port's rules (``dataset.persons_from_split``: persons with no category are kept with
all-zero labels, as the port keeps them; ``--drop_no_category`` drops them), drops persons whose image
file is missing (as the port, which reads every image), prints how many were dropped and why, and writes
``DATA/<save_dir_name>/{train,val,test}.csv``. With ``--from_csv`` the input CSVs are never rewritten.
With ``--generate_npy`` it also writes ``<split>_{context,body,cat,cont,bbox}_arr.npy`` streaming, one
person at a time, so peak memory does not grow with the number of images (see ``bench_preprocess.py``).
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from emotic_context.options import mat2py_parser
from shared_utils.cli import answer_help_first

answer_help_first(mat2py_parser, __name__)

import argparse
import time
from collections import Counter
from pathlib import Path

from emotic_context.dataset import (
    CACHE_ARRAYS,
    SPLITS,
    cache_path,
    load_annotations_mat,
    read_port_csv,
    write_cache,
    write_port_csv,
)
from shared_utils.files import DEMO_MARKER, atomic_write_text, make_folder
from shared_utils.runtime import progress


def check_cache_folder(save_dir: Path, csv_dir: Path | None) -> None:
    """The cache folder is new, empty, or holds only what this script writes (a cache made before); a folder with
    anything else (a user's files) is refused before anything is written. With --from_csv the input CSVs' own
    folder may also be the cache folder (the port's default), as its CSVs are only read."""
    if save_dir.exists() and not save_dir.is_dir():
        raise SystemExit(f"error: --save_dir {save_dir} is a file; the cache is a folder")
    if not save_dir.is_dir() or (csv_dir is not None and csv_dir.resolve() == save_dir.resolve()):
        return
    ours = {DEMO_MARKER, *(f"{split}.csv" for split in SPLITS),
            *(cache_path(".", split, name).name for split in SPLITS for name in CACHE_ARRAYS)}
    foreign = sorted(entry.name for entry in save_dir.iterdir() if entry.name not in ours)
    if foreign:
        listed = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise SystemExit(f"error: --save_dir {save_dir} holds files this script does not write ({listed}); it is "
                         "left untouched: give a new or empty folder")


def main(args: argparse.Namespace) -> dict[str, int]:
    data_dir = Path(args.data_dir)
    save_dir = Path(args.save_dir) if args.save_dir else data_dir / args.save_dir_name
    image_root = data_dir / "emotic"
    splits = list(SPLITS) if args.label == "all" else [args.label]
    start = time.perf_counter()
    csv_dir = Path(args.csv_dir) if args.csv_dir else save_dir
    if args.from_csv:
        by_split = {split: (read_port_csv(csv_dir / f"{split}.csv"), Counter()) for split in splits}
    else:
        annotations = Path(args.annotations) if args.annotations else data_dir / "Annotations" / "Annotations.mat"
        by_split = load_annotations_mat(annotations, splits, drop_no_category=args.drop_no_category)
    for split in splits:  # every image of a split missing is a layout problem: say so before writing anything
        persons = by_split[split][0]
        if persons and not any((image_root / p.folder / p.filename).is_file() for p in persons):
            sample = persons[0]
            raise SystemExit(f"error: {split}: none of the {len(persons)} annotated images is where the port's "
                             f"layout puts them, e.g. {image_root / sample.folder / sample.filename} (expected "
                             f"{image_root}/<folder>/<file>, folders such as mscoco/images, framesdb/images, "
                             "emodb_small/images, ade20k/images); nothing was written")
    check_cache_folder(save_dir, csv_dir if args.from_csv else None)
    make_folder(save_dir)
    if (data_dir / DEMO_MARKER).is_file():  # results from this cache are recorded as demo results
        atomic_write_text(save_dir / DEMO_MARKER, (data_dir / DEMO_MARKER).read_text())
    kept_counts = {}
    for split in splits:
        persons, dropped = by_split[split]
        if args.drop_no_category and args.from_csv:
            dropped["no categories (--drop_no_category)"] += sum(not p.categories for p in persons)
            persons = [p for p in persons if p.categories]
        present = [p for p in persons if (image_root / p.folder / p.filename).is_file()]  # mat2py.py:181-185
        if len(present) < len(persons):
            first = next(p for p in persons if not (image_root / p.folder / p.filename).is_file())
            print(f"{split}: {len(persons) - len(present)} person(s) whose image file is missing, e.g. "
                  f"{image_root / first.relative_path}")
            dropped["image file missing"] += len(persons) - len(present)
        persons = present
        reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(dropped.items())) or "none"
        print(f"{split}: kept {len(persons)} persons; dropped {sum(dropped.values())} ({reasons})")
        out_csv = save_dir / f"{split}.csv"
        source_csv = (Path(args.csv_dir) if args.csv_dir else save_dir) / f"{split}.csv" if args.from_csv else None
        if source_csv is not None and out_csv.resolve() == source_csv.resolve():
            if sum(dropped.values()):
                print(f"{split}: {out_csv} is the input and is left as it is; the cache holds the "
                      f"{len(persons)} kept persons")
        else:
            print(f"{split}: wrote {write_port_csv(out_csv, persons)}")
        if args.generate_npy:
            write_cache(persons, image_root, save_dir, split, args.context_size, args.body_size,
                        progress_fn=lambda items, s=split: progress(items, desc=f"{s} cache", total=len(items)))
            print(f"{split}: wrote {split}_{{context,body,cat,cont,bbox}}_arr.npy "
                  f"(context {args.context_size}px, body {args.body_size}px) to {save_dir}")
        kept_counts[split] = len(persons)
    print(f"done in {time.perf_counter() - start:.1f} s")
    return kept_counts


if __name__ == "__main__":
    main(mat2py_parser().parse_args())
