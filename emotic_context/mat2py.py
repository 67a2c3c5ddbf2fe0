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

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from emotic_context.dataset import (
    PORT_BODY_SIZE,
    PORT_CONTEXT_SIZE,
    SPLITS,
    load_annotations_mat,
    read_port_csv,
    write_cache,
    write_port_csv,
)
from shared_utils.cli import ArgumentParser, positive_int
from shared_utils.files import DEMO_MARKER, atomic_write_text, make_folder
from shared_utils.runtime import progress


def get_args_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(description="EMOTIC Annotations.mat -> port CSVs (+ streamed npy cache)")
    parser.add_argument("--data_dir", required=True, help="folder holding emotic/ and Annotations/")
    parser.add_argument("--save_dir_name", default="emotic_pre", help="output folder name inside --data_dir")
    parser.add_argument("--save_dir", default=None, help="output folder anywhere (overrides --save_dir_name)")
    parser.add_argument("--label", default="all", choices=["train", "val", "test", "all"])
    parser.add_argument("--generate_npy", action="store_true", help="also write the npy cache used for training")
    parser.add_argument("--from_csv", action="store_true",
                        help="read the port's <split>.csv from the output folder (or --csv_dir) instead of the .mat")
    parser.add_argument("--csv_dir", default=None, help="folder with the port's CSVs, for --from_csv")
    parser.add_argument("--annotations", default=None, help="Annotations.mat path (default DATA/Annotations/...)")
    parser.add_argument("--context_size", type=positive_int, default=PORT_CONTEXT_SIZE,
                        help="context side in the cache")
    parser.add_argument("--body_size", type=positive_int, default=PORT_BODY_SIZE, help="body crop side in the cache")
    parser.add_argument("--drop_no_category", action="store_true",
                        help="drop persons with no category (the port keeps them, with all-zero labels)")
    return parser


def main(args: argparse.Namespace) -> dict[str, int]:
    data_dir = Path(args.data_dir)
    save_dir = Path(args.save_dir) if args.save_dir else data_dir / args.save_dir_name
    image_root = data_dir / "emotic"
    splits = list(SPLITS) if args.label == "all" else [args.label]
    start = time.perf_counter()
    if args.from_csv:
        csv_dir = Path(args.csv_dir) if args.csv_dir else save_dir
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
    main(get_args_parser().parse_args())
