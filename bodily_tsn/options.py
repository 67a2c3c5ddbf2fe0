"""The package's command lines, light to import: every script builds its parser here, so ``--help`` answers before
torch is loaded (``shared_utils.cli.answer_help_first``). ``cam.py`` also reads the training parser to fill in options
that an older run's args.yaml does not hold, and a script never imports another script."""

from __future__ import annotations

import argparse
from pathlib import Path

from shared_utils import cli
from shared_utils.runs import add_run_args

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
# the names the command line offers; dataset.py and model.py use these same tuples
LABELS = ["Curiosity", "Uncertainty", "Excitement", "Happiness", "Surprise", "Disgust", "Fear", "Frustration"]
INPUTS = ("face", "body", "fullbody", "fusion")
MISSING_BOX = ("frame", "nearest")
ARCHS = ("resnet50", "mobilenet_v2")
SHIFT_PLACES = ("blockres", "block")
# reproduce.py: experiment -> the options that define it (paper_results.json uses the same names)
EXPERIMENTS = {
    "tsm_fusion_mask": ["--input", "fusion", "--mask", "--shift"],
    "tsn_face_mask": ["--input", "face", "--mask"],
    "tsn_body": ["--input", "body"],
    "tsn_fullbody_mask": ["--input", "fullbody", "--mask"],
    "tsn_face": ["--input", "face"],
}
DEFAULT_DATA_ROOT = REPO_ROOT / "data" / "EmoReact"


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(description="TSN / TSM bodily expression recognition on EmoReact",
                                     add_help=add_help)
    parser.add_argument("-c", "--config", default=None, help="JSON/YAML recipe whose values replace the defaults "
                        "(EmoReact/config.json holds the paper's)")
    # The original's options.
    parser.add_argument("--input", default="face", choices=INPUTS, help="which crops the model sees")
    parser.add_argument("--mask", action="store_true",
                        help="read the authors' masked-face frames (Data_mask/..., as the original)")
    parser.add_argument("--draw_mask", action="store_true",
                        help="draw a surgical mask from the OpenFace landmarks on the frames read (for mp4 input)")
    parser.add_argument("--num_segments", type=cli.positive_int, default=5,
                        help="TSN segments (frames) per clip (original default 5; its README table used 3)")
    parser.add_argument("--arch", default="resnet50", choices=ARCHS)
    parser.add_argument("--shift", action="store_true", help="TSM temporal shift in every residual block")
    parser.add_argument("--shift_div", type=cli.positive_int, default=8,
                        help="shift 1/shift_div of the channels each way")
    parser.add_argument("--shift_place", default="blockres", choices=SHIFT_PLACES,
                        help="blockres: residual branch only; block: the block input (identity path too)")
    parser.add_argument("--dropout", "--do", type=cli.probability, default=0.5,
                        help="dropout before the head: recorded but, as in the original, not applied "
                             "(its TSN never builds the layer) unless --apply_dropout")
    parser.add_argument("--apply_dropout", action="store_true", help="apply --dropout before the head")
    parser.add_argument("--head_init", default="default", choices=["default", "normal"],
                        help="head init: PyTorch's default Linear init (the original) or TSN's N(0, 0.001)")
    parser.add_argument("--no_partialbn", "--npb", action="store_true", help="let every BatchNorm learn")
    parser.add_argument("--valence", action="store_true", help="also regress valence (MSE, scaled to [-1, 1])")
    parser.add_argument("--valence_weight", type=cli.nonnegative_float, default=1.0)
    parser.add_argument("--separate_trunks", action="store_true",
                        help="fusion: one trunk per stream (default: one shared by face and body, as the original)")
    parser.add_argument("--pretrained", default="affectnet", metavar="NAME|PATH",
                        help="affectnet (default, as the original: its AffectNet-trained file for --arch/--shift, "
                             "from the weights cache; see python -m shared_utils.weights list), none (random "
                             "init), or a file: the original's AffectNet files or torchvision's state_dict")
    # Optimisation (the original's defaults).
    parser.add_argument("-b", "--batch-size", type=cli.positive_int, default=8)
    parser.add_argument("--lr", "--learning-rate", type=cli.positive_float, default=0.01)
    parser.add_argument("--momentum", type=cli.nonnegative_float, default=0.9)
    parser.add_argument("--weight-decay", "--wd", type=cli.nonnegative_float, default=5e-4)
    parser.add_argument("--clip-gradient", "--gd", type=cli.positive_float, default=None, help="gradient norm clipping")
    parser.add_argument("--epochs", type=cli.positive_int, default=12, help="the original's EmoReact/config.json: 12")
    parser.add_argument("--lr_steps", type=cli.positive_int, nargs="+", default=[20, 40],
                        help="MultiStepLR milestones (the original's [20, 40]: never reached in 12 epochs)")
    parser.add_argument("--lr_gamma", type=cli.positive_float, default=0.1)
    parser.add_argument("--early_stop", type=cli.nonnegative_int, default=100,
                        help="epochs without val improvement before stopping")
    parser.add_argument("--crop_size", type=cli.positive_int, default=224)
    parser.add_argument("--scale_size", type=cli.positive_int, default=256,
                        help="training: squash to this, then random crop")
    # Data.
    parser.add_argument("--data_root", default=str(DEFAULT_DATA_ROOT),
                        help="EmoReact folder (Data/AllVideos, Holistic)")
    parser.add_argument("--split_dir", default=None,
                        help="folder with train/val/test.csv (default: DATA_ROOT if it has them, else the package's)")
    parser.add_argument("--source", default="auto", choices=["auto", "original", "mp4"],
                        help="frames: the original's extracted ones (DATA_ROOT/Data{_mask}/{Train,Validation,Test}"
                             "{_mask}/<stem>{_mask}_frames_full/), decoded from the mp4, or auto (the original's "
                             "when present)")
    parser.add_argument("--frames_dir", default=None,
                        help="read frames from <dir>/<stem>/%%06d.jpg (tools.vid2img_emoreact) instead")
    parser.add_argument("--holistic_dir", default=None,
                        help="MediaPipe Holistic <stem>_hol.txt files (default DATA_ROOT/Holistic)")
    parser.add_argument("--missing_box", default="frame", choices=MISSING_BOX,
                        help="a frame without landmarks: the whole frame (the original) or the nearest "
                             "detected frame's box")
    parser.add_argument("--skip_bad", action="store_true", help="skip clips with bad input (counted), do not fail")
    parser.add_argument("--limit_clips", type=cli.positive_int, default=None,
                        help="use only the first N clips of each split")
    parser.add_argument("--test_only", action="store_true", help="score the run folder's best checkpoint on test")
    add_run_args(parser, default_output=str(REPO_ROOT / "runs" / "bodily_tsn"))
    parser.add_argument("--exp_name", dest="experiment", default=None, help="run folder name (alias of --experiment)")
    parser.add_argument("-r", dest="resume_from", default=None, metavar="PATH",
                        help="the original's --resume PATH: continue the run whose folder (or checkpoint) is PATH")
    cli.add_runtime_args(parser)
    # The original's short options: -j/--workers, -d/--device (GPU indices such as 0 or 0,1 are accepted).
    parser.add_argument("-j", dest="workers", type=cli.nonnegative_int, default=argparse.SUPPRESS,
                        help="alias of --workers")
    parser.add_argument("-d", dest="device", default=argparse.SUPPRESS, help="alias of --device")
    return parser


def cam_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(description="Grad-CAM explanations of a bodily_tsn run, per sampled frame")
    parser.add_argument("--run", required=True, help="run folder (args.yaml, checkpoint_best.pt)")
    parser.add_argument("--label", required=True, choices=LABELS)
    parser.add_argument("--method", default="gradcam", choices=cli.CAM_METHOD_NAMES)
    parser.add_argument("--split", default="test", choices=["train", "val", "test"])
    parser.add_argument("--videos", nargs="+", default=None, help="clip file names (default: the first --num_clips)")
    parser.add_argument("--num_clips", type=cli.positive_int, default=2)
    parser.add_argument("--format", dest="fmt", default="gif", choices=["gif", "mp4"])
    parser.add_argument("--data_root", default=None, help="override the run's data root")
    parser.add_argument("--out", default=None, help="output folder (default: RUN/cam)")
    return parser


def demo_data_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(description="A small synthetic EmoReact in the official layout, for demos and tests")
    parser.add_argument("--out", required=True, help="folder to write the demo EmoReact into")
    parser.add_argument("--train", type=cli.positive_int, default=48)
    parser.add_argument("--val", type=cli.positive_int, default=24)
    parser.add_argument("--test", type=cli.positive_int, default=24)
    parser.add_argument("--seed", type=cli.nonnegative_int, default=0)
    return parser


def reproduce_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(description="bodily_tsn: reproduce the EmoReact experiments (demo without data)")
    parser.add_argument("--data-root", default="data", help="folder holding EmoReact/")
    parser.add_argument("--out", default="runs/reproduce/bodily_tsn")
    parser.add_argument("--full", action="store_true", help="demo: run all five experiments, not only the headline")
    parser.add_argument("--pretrained", default="affectnet",
                        help="real data: affectnet (the original's files, from the weights cache) or a file")
    parser.add_argument("--experiments", nargs="+", choices=list(EXPERIMENTS), default=None)
    return parser


def mask_faces_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(description="draw surgical masks over the lower face of every EmoReact frame")
    parser.add_argument("--data_root", required=True)
    parser.add_argument("--out", required=True, help="masked frames folder")
    parser.add_argument("--frames_dir", default=None, help="read frames from here instead of decoding the mp4")
    parser.add_argument("--skip_bad", action="store_true")
    return parser


def benchmark_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        description="Throughput of the bodily_tsn data pipeline and of training, with peak memory")
    parser.add_argument("--data_root", default=None,
                        help="an EmoReact folder for the dataset and train sections (default: a small demo one)")
    parser.add_argument("--videos", nargs="*", default=[], help="mp4 files for the frames section")
    parser.add_argument("--input", default="fusion", choices=INPUTS)
    parser.add_argument("--num_segments", type=cli.positive_int, default=3, help="the original README table's 3")
    parser.add_argument("--crop_size", type=cli.positive_int, default=224)
    parser.add_argument("--scale_size", type=cli.positive_int, default=256)
    parser.add_argument("--arch", default="resnet50", choices=ARCHS)
    parser.add_argument("--shift", action=argparse.BooleanOptionalAction, default=True, help="TSM (--no-shift: TSN)")
    parser.add_argument("--batch_size", type=cli.positive_int, default=8, help="the original config.json's 8")
    parser.add_argument("--steps", type=cli.positive_int, default=3, help="timed training steps per run")
    parser.add_argument("--clips", type=cli.positive_int, default=32, help="clips timed in the dataset section")
    parser.add_argument("--repeats", type=cli.positive_int, default=20,
                        help="samplings per video in the frames section")
    parser.add_argument("--threads", type=cli.nonnegative_int, default=2)
    parser.add_argument("--sections", nargs="+", default=["dataset", "step"],
                        choices=["frames", "dataset", "train", "step"],
                        help="frames: mp4 vs JPEG reads; dataset: the training loader alone; train: loader + step "
                             "end to end; step: the training step alone (time_train_step.py), per --settings")
    parser.add_argument("--settings", nargs="+", default=["default"], metavar="SETTING",
                        help="step section: each a '+'-joined choice of fp32, bf16, channels_last, glibc, jemalloc, "
                             "tcmalloc; 'default' = train_EmoReact.py's own defaults")
    parser.add_argument("--ref", default=None, metavar="REV",
                        help="step section: also time git revision REV's code with its own defaults (git archive "
                             "into a temporary folder), alternating with this checkout")
    parser.add_argument("--rounds", type=cli.positive_int, default=3, help="step section: alternation rounds")
    return parser
