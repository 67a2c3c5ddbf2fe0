"""The package's command lines, light to import: every script builds its parser here, so ``--help`` answers before
torch is loaded (``shared_utils.cli.answer_help_first``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from shared_utils import cli
from shared_utils.benchmarking import add_benchmark_args
from shared_utils.runs import add_run_args

ARCHS = ("cnn", "se_cnn", "se_resnet18", "se_resnet34")
DATASETS = ("fer2013", "ferplus", "rafdb", "folder")
FERPLUS_MODES = ("majority", "probability", "crossentropy")
SHIPPED_CHECKPOINT = Path(__file__).resolve().parent / "models" / "fer2013_se_resnet18.pt"
# How much wider than OpenCV's frontal-face box a FER2013 image is: the median of image side / box side over the
# faces the detector finds in the Training holdout (`python -m fer_seresnet.framing --data-path data/fer2013`,
# README "Face framing"). predict cuts a photo's face out this much wider than its box, so the network sees it
# framed as in training; 1.0 is the box itself.
FACE_BOX_SCALE = 1.2
# predict's --face-scale: a cut-out narrower than the box would cut the face itself
face_scale = cli.checked_type("face_scale", float, lambda v: 1 <= v <= 3, "is not between 1 and 3")
# early_learning.py: ARCH:INIT:OPTIMISER:LR, one factor changed at a time
DEFAULT_VARIANTS = ["cnn:std:sgd:0.05", "se_resnet18:zero:sgd:0.05", "se_resnet18:std:sgd:0.05",
                    "se_resnet18:zero-nose:sgd:0.05", "se_resnet18:std-nose:sgd:0.05",
                    "se_resnet18:std:adamw:0.002", "cnn:std:adamw:0.002"]


def add_holdout_arguments(group) -> None:
    """The seeded validation holdout of Training, for train.py and every tool that must see the same faces."""
    group.add_argument("--holdout-fraction", default=0.1, type=cli.holdout_share,
                       help="share of Training held out for validation")
    group.add_argument("--split-seed", default=0, type=cli.nonnegative_int,
                       help="seed of the validation holdout (and of train.py's --train-subset)")


def train_parser(add_help: bool = True) -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(description="Facial expression recognition training", add_help=add_help)
    data = parser.add_argument_group("data")
    data.add_argument("--data-path", default="data/fer2013", help="fer2013.csv, a folder with it, or train/ + test/")
    data.add_argument("--dataset", default="fer2013", choices=DATASETS)
    data.add_argument("--ferplus-csv", default=None, help="fer2013new.csv (with --dataset ferplus)")
    data.add_argument("--ferplus-mode", default="majority", choices=FERPLUS_MODES,
                      help="FER+ labels as FERPlus's src/ferplus.py makes them (_process_data)")
    data.add_argument("--ferplus-classes", default=7, type=int, choices=[7, 8],
                      help="FER+: 7 = FER2013's classes (contempt rows dropped), 8 = with contempt")
    data.add_argument("--soft-targets", action="store_true", help="FER+: train on the vote distribution")
    data.add_argument("--skip-bad-rows", action="store_true", help="skip and count malformed CSV rows")
    data.add_argument("--val-source", default="auto", choices=["auto", "holdout", "public_test"],
                      help="auto: PublicTest if PrivateTest exists, else a seeded holdout of Training")
    add_holdout_arguments(data)
    data.add_argument("--train-subset", default=0, type=cli.nonnegative_int,
                      help="use only N (stratified) training images (0: all)")

    model = parser.add_argument_group("model")
    model.add_argument("--arch", default="se_resnet18", choices=ARCHS)
    model.add_argument("--width", default=64, type=cli.positive_int,
                       help="channels of the first stage (doubling per stage)")
    model.add_argument("--dropout", default=0.3, type=cli.probability)
    model.add_argument("--zero-init-residual", default=True, action=argparse.BooleanOptionalAction,
                       help="SE-ResNets: start each residual branch's last BN at zero (blocks begin as identities)")
    model.add_argument("--sync-bn", action="store_true", help="synchronised BatchNorm under DDP (CUDA)")
    model.add_argument("--pretrained", default=None,
                       help="initialise from this checkpoint / state_dict, or a registry name "
                            "(fer2013_se_resnet18, fer2013_se_cnn)")

    aug = parser.add_argument_group("augmentation")
    aug.add_argument("--crop-size", default=44, type=cli.positive_int, help="random crop at train, centre crop at test")
    aug.add_argument("--hflip-prob", default=0.5, type=cli.probability)
    aug.add_argument("--rotation", default=10.0, type=cli.nonnegative_float, help="max rotation in degrees")
    aug.add_argument("--scale", default=0.1, type=cli.nonnegative_float, help="random zoom 1 +- scale")
    aug.add_argument("--translate", default=0.0, type=cli.nonnegative_float,
                     help="extra random shift as a fraction of the side")
    aug.add_argument("--random-erase", default=0.0, type=cli.probability, help="random erasing probability")

    optim = parser.add_argument_group("optimisation")
    optim.add_argument("--epochs", default=60, type=cli.positive_int)
    optim.add_argument("-b", "--batch-size", default=64, type=cli.positive_int, help="per-process batch size")
    optim.add_argument("--opt", default="sgd", choices=["sgd", "adamw"])
    optim.add_argument("--lr", default=0.05, type=cli.positive_float)
    optim.add_argument("--momentum", default=0.9, type=cli.nonnegative_float)
    optim.add_argument("--nesterov", action=argparse.BooleanOptionalAction, default=True)
    optim.add_argument("--weight-decay", "--wd", default=5e-4, type=cli.nonnegative_float)
    optim.add_argument("--lr-scheduler", default="cosine", choices=["cosine", "plateau", "none"])
    optim.add_argument("--lr-warmup-epochs", default=1, type=cli.nonnegative_int)
    optim.add_argument("--lr-min", default=0.0, type=cli.nonnegative_float, help="cosine floor")
    optim.add_argument("--plateau-factor", default=0.5, type=cli.probability)
    optim.add_argument("--plateau-patience", default=3, type=cli.positive_int)
    optim.add_argument("--label-smoothing", default=0.1, type=cli.probability)
    optim.add_argument("--clip-grad-norm", default=None, type=cli.positive_float)
    optim.add_argument("--patience", default=0, type=cli.nonnegative_int,
                       help="early stop after N epochs without val gain (0: off)")
    optim.add_argument("--stop-after-epoch", default=0, type=cli.nonnegative_int,
                       help="stop (resumably) once this epoch is done, as if interrupted there (0: off)")
    optim.add_argument("--time-budget-minutes", default=0.0, type=cli.nonnegative_float,
                       help="train for this much wall-clock time: the cosine schedule follows elapsed time and the "
                            "last epoch is cut when the budget is spent (--epochs is then an upper bound; 0: off)")

    evaluation = parser.add_argument_group("evaluation")
    evaluation.add_argument("--eval-ten-crop", action=argparse.BooleanOptionalAction, default=True,
                            help="also score the test split with ten-crop TTA")
    evaluation.add_argument("--eval-batch-size", default=256, type=cli.positive_int)
    add_run_args(parser, default_output="runs/fer_seresnet")
    cli.add_runtime_args(parser)
    return parser


def evaluate_parser(add_help: bool = True) -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(description="Evaluate a fer_seresnet checkpoint", add_help=add_help)
    parser.add_argument("--checkpoint", default=str(SHIPPED_CHECKPOINT),
                        help="checkpoint_best.pt from train.py (default: the shipped FER2013 model)")
    parser.add_argument("--data-path", required=True, help="dataset file or folder (see dataset.py)")
    parser.add_argument("--dataset", default=None, choices=DATASETS,
                        help="dataset format (default: the checkpoint's training dataset)")
    parser.add_argument("--cross-dataset", default=None, choices=DATASETS,
                        help="evaluate on another dataset than the one trained on (labels remapped to FER2013's)")
    parser.add_argument("--ferplus-csv", default=None, help="fer2013new.csv for --dataset ferplus")
    parser.add_argument("--ferplus-mode", default="majority", choices=FERPLUS_MODES)
    parser.add_argument("--ferplus-classes", default=None, type=int, choices=[7, 8],
                        help="default: the checkpoint's number of classes")
    parser.add_argument("--split", default=None, help="split to score (default: private_test > public_test > test)")
    parser.add_argument("--ten-crop", action=argparse.BooleanOptionalAction, default=False, help="ten-crop TTA")
    parser.add_argument("--batch-size", default=256, type=cli.positive_int)
    parser.add_argument("--skip-bad-rows", action="store_true", help="skip (and count) malformed CSV rows")
    add_run_args(parser, default_output="runs/fer_seresnet")
    cli.add_runtime_args(parser)
    return parser


def visualize_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(description="Feature maps and Grad-CAM overlays for chosen faces")
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--data-path", required=True)
    parser.add_argument("--dataset", default=None, choices=DATASETS)
    parser.add_argument("--ferplus-csv", default=None)
    parser.add_argument("--split", default=None, help="default: private_test > public_test > test")
    parser.add_argument("--indices", type=int, nargs="*", default=None, help="images of the split to show")
    parser.add_argument("--per-class", type=cli.positive_int, default=1,
                        help="without --indices: first N images of each class")
    parser.add_argument("--channels", type=cli.positive_int, default=6, help="feature maps shown per stage")
    parser.add_argument("--stage", type=int, default=-1, help="Grad-CAM target stage (index into model.stages)")
    parser.add_argument("--method", default="gradcam", choices=cli.CAM_METHOD_NAMES)
    parser.add_argument("--baseline-seed", type=cli.nonnegative_int, default=0,
                        help="initialisation of the untrained baseline")
    parser.add_argument("--out", required=True, help="output folder for the PNGs (new or empty)")
    parser.add_argument("--overwrite", action="store_true", help="write into an existing --out, replacing figures")
    parser.add_argument("--device", default="cpu")
    return parser


def predict_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        description="Emotions for your own photos and videos: every face found, classified with its probabilities")
    parser.add_argument("paths", nargs="+", help="images, videos or folders (walked recursively)")
    parser.add_argument("--checkpoint", default=None,
                        help=f"a fer_seresnet checkpoint (default: the shipped model, {SHIPPED_CHECKPOINT.name})")
    parser.add_argument("--json", action="store_true", help="one JSON object per input on stdout")
    parser.add_argument("--out", default=None, help="folder for annotated images and plots (must not exist yet)")
    parser.add_argument("--overwrite", action="store_true", help="write into an existing --out folder")
    parser.add_argument("--cam", action="store_true", help="Grad-CAM overlay in each face box (with --out)")
    parser.add_argument("--every", type=cli.positive_int, default=10, help="videos: classify every N-th frame")
    parser.add_argument("--min-face", type=cli.positive_int, default=24,
                        help="smallest face side the detector reports, pixels")
    parser.add_argument("--face-scale", type=face_scale, default=FACE_BOX_SCALE,
                        help="side of the cut-out face / side of the detector's box (default: FER2013's framing, "
                             "measured by fer_seresnet.framing; 1 = the box itself)")
    parser.add_argument("--device", default="auto")
    return parser


def framing_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        description="Where FER2013's faces sit in their images as OpenCV's face detector sees them, and the accuracy "
                    "of predict's face cut-out at each framing, on the Training holdout")
    parser.add_argument("--data-path", required=True, help="FER2013: fer2013.csv, a folder with it, or train/ + test/")
    parser.add_argument("--checkpoint", default=str(SHIPPED_CHECKPOINT),
                        help="the model scored through the cut-out (default: the shipped model)")
    parser.add_argument("--scales", type=face_scale, nargs="+", default=[1.0, 1.1, 1.2, 1.3, 1.4],
                        help="framings scored: cut-out side / box side")
    parser.add_argument("--upsample", type=cli.positive_int, default=4,
                        help="each 48x48 face is enlarged this many times before detection (the detector's "
                             "smallest face is 24 px)")
    add_holdout_arguments(parser)  # train.py's holdout, so the faces measured are its validation faces
    parser.add_argument("--limit", default=0, type=cli.nonnegative_int, help="N holdout faces, evenly spaced (0 = all)")
    parser.add_argument("--device", default="cpu")
    return parser


def export_model_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        description="Ship a trained run's best model: fp16 weights, options to rebuild it, a manifest of its origin")
    parser.add_argument("run_dir", help="a fer_seresnet training run folder")
    parser.add_argument("--out", required=True, help="the .pt file to write; MANIFEST.json goes beside it")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out (and its manifest entry)")
    return parser


def early_learning_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        description="Why does the SE-ResNet start slower than the plain CNN? Equal steps, same batches, one factor "
                    "changed at a time")
    parser.add_argument("--data-path", required=True, help="FER2013 (fer2013.csv or train/ + test/ folders)")
    parser.add_argument("--steps", type=cli.positive_int, default=300)
    parser.add_argument("-b", "--batch-size", type=cli.positive_int, default=64)
    parser.add_argument("--width", type=cli.positive_int, default=16)
    parser.add_argument("--threads", type=cli.positive_int, default=2)
    parser.add_argument("--holdout", type=cli.positive_int, default=1500,
                        help="Training images kept aside for the accuracy")
    parser.add_argument("variants", nargs="*", default=DEFAULT_VARIANTS, help="ARCH:INIT:OPTIMISER:LR")
    return parser


def bench_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(description="Throughput of FER training (loader, step, pipeline), with peak memory")
    parser.add_argument("--data-path", default=None, help="FER2013 (csv or folders); default: demo data in a tmp dir")
    parser.add_argument("--config", default="fer2013_se_resnet18.yaml",
                        help="the recipe whose network, crop and batch are timed (a file, or a name in configs/)")
    parser.add_argument("--arch", default=None, choices=ARCHS, help="default: the recipe's")
    parser.add_argument("--width", default=None, type=cli.positive_int, help="default: the recipe's")
    parser.add_argument("-b", "--batch-size", default=None, type=cli.positive_int, help="default: the recipe's")
    parser.add_argument("--device", default="auto")
    add_benchmark_args(parser, ("loader", "pipeline", "step"), ("fp32", "bf16", "channels_last", "jemalloc",
                                                                "tcmalloc", "bf16+channels_last+jemalloc"))
    parser.add_argument("--page", nargs="+", default=None, metavar="PHOTO",
                        help="time the faces page instead: upload to result for one photo through the served page "
                             "(several photos are first pasted side by side on a 1920x1080 canvas)")
    return parser


def dataset_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(description="Describe a dataset the package reads: rows per split and class")
    sub = parser.add_subparsers(dest="command", required=True)
    describe = sub.add_parser("describe", help="rows kept per split and per class")
    describe.add_argument("--dataset", default="fer2013", choices=DATASETS)
    describe.add_argument("--data-path", default=None, help="the dataset file or folder (not needed for ferplus)")
    describe.add_argument("--ferplus-csv", default=None)
    describe.add_argument("--ferplus-mode", default="majority", choices=FERPLUS_MODES)
    describe.add_argument("--ferplus-classes", default=7, type=int, choices=[7, 8])
    return parser


def demo_data_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        description="Deterministic demo data in the official layouts: drawn 48x48 faces whose expression is the class")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--layout", default="csv", choices=["csv", "folders", "both"], help="FER2013 form to write")
    parser.add_argument("--seed", default=0, type=cli.nonnegative_int)
    return parser


def reproduce_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(description="Reproduce the package's numbers (demo data when the data is absent)")
    parser.add_argument("--data-root", default="data", help="folder holding fer2013/ (and optionally RAF-DB/basic/)")
    parser.add_argument("--out", default="runs/reproduce/fer_seresnet")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--recipe", default="auto", choices=["auto", "full", "cpu"],
                        help="with real data: full paper recipes, or the README's 36-minute CPU run (auto: by device)")
    return parser


def curve_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(description="Validation accuracy versus wall-clock time from runs' summary.csv files")
    parser.add_argument("summary_csv", nargs="+", help="train.py summary.csv files, one curve each")
    parser.add_argument("--out", required=True)
    parser.add_argument("--labels", nargs="+", default=None,
                        help="one legend label per summary file (default: the run folder names); runs with one "
                             "label share a colour")
    parser.add_argument("--reference", nargs=2, action="append", default=[], metavar=("VALUE", "LABEL"),
                        help="horizontal reference line (repeatable)")
    parser.add_argument("--title", default="validation accuracy vs training time")
    return parser
