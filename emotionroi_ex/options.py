"""The package's command lines, light to import: every script builds its parser here, so ``--help`` answers before
torch is loaded (``shared_utils.cli.answer_help_first``); the scripts expose them as ``get_args_parser``."""

from __future__ import annotations

import argparse

from emotionroi_ex import EMOTIONS, PACKAGE
from shared_utils import cli
from shared_utils.benchmarking import add_benchmark_args
from shared_utils.runs import add_run_args

BACKBONES = ("alexnet", "resnet18", "resnet34", "resnet50")  # trunks of the paper's FCN-32s
ARCHS = ("fcn32s", "fcn_resnet50")
UPSAMPLE_MODES = ("nearest-exact", "bilinear")
BASELINES = ("spectral_residual", "center_bias", "objectness", "mean_map")  # evaluate_baselines.py's maps
# fp32 and contiguous by default here: one bf16 + channels_last demo run moved EmoFCNEL's maps (test MAE 0.106 ->
# 0.126, the label sensitivity reversed) by more than its seed-to-seed spread is known to be; `--amp-dtype auto
# --channels-last` is 2.15x faster for Kahsolt's FCN (README, Benchmark)
RUNTIME_DEFAULTS = {"amp_dtype": "float16", "channels_last": False}
INFER_DESCRIPTION = """Predict stimuli maps for new images (no GUI).

``--input`` is one image, a folder (searched recursively) or a text file listing one image path a line.
Each image gets ``<output>/<its relative path without suffix>_map.png`` (grayscale: the predicted map
clamped to [0, 1], times 255, at the image's size: the ground truth's scale) and ``..._overlay.jpg`` (the
map in jet colours over the photo); EmoFCNEL adds ``_<emotion>`` before the suffix.  The relative path is
the one under the input folder, or as written in the list file (absolute entries: under their common
folder), so ``anger/1.jpg`` and ``joy/1.jpg`` never overwrite each other; two inputs that would still share
an output name (``a/photo.jpg``, ``a/photo.png``) keep their suffix in it (``a/photo_jpg_map.png``).
An existing output folder is refused unless ``--overwrite`` is given (which replaces only the files this
run writes).  The network's options (arch, backbone, upsample, embed_dim) are read from the ``args.yaml``
saved beside the checkpoint; flags override them.
"""


def add_common_args(parser: argparse.ArgumentParser, default_experiment_prefix: str) -> None:
    parser.add_argument("--data-path", default="data/EmotionROI", help="the unzipped EmotionROI folder (or its parent)")
    parser.add_argument("--arch", default="fcn32s", choices=ARCHS)
    parser.add_argument("--backbone", default="alexnet", choices=BACKBONES)
    parser.add_argument("--upsample", default=None, choices=UPSAMPLE_MODES,
                        help="score-map upsampling (default: nearest-exact for fcn_resnet50 as Kahsolt, "
                             "bilinear for fcn32s as FCN's deconvolution)")
    parser.add_argument("--pretrained", default=None,
                        help="weights: a registry name (fcn_resnet50_coco, imagenet_resnet50, imagenet_alexnet; "
                             "python -m shared_utils.weights list) or a file: torchvision's fcn_resnet50 (COCO) or "
                             "resnet50/alexnet ImageNet state_dict, or a trained Kahsolt model")
    parser.add_argument("--epochs", type=cli.positive_int, default=20)
    parser.add_argument("-b", "--batch-size", type=cli.positive_int, default=1, help="per process")
    parser.add_argument("--opt", default="sgd", choices=["sgd", "adam"])
    parser.add_argument("--lr", type=cli.positive_float, default=1e-8)
    parser.add_argument("--momentum", type=cli.nonnegative_float, default=0.99)
    parser.add_argument("--wd", "--weight-decay", dest="weight_decay", type=cli.nonnegative_float, default=5e-4)
    parser.add_argument("--lr-scheduler", default="constant", choices=["constant", "cosine", "step"])
    parser.add_argument("--lr-step-size", type=cli.positive_int, default=10,
                        help="epochs between x0.1 steps (step scheduler)")
    parser.add_argument("--lr-min", type=cli.nonnegative_float, default=0.0,
                        help="cosine schedule's final lr (eta_min)")
    parser.add_argument("--wd-skip-norm-bias", action="store_true",
                        help="no weight decay on biases, norm layers and the label embedding (torchvision's "
                             "--norm-weight-decay 0); default: decay on every parameter, as Kahsolt's SGD")
    parser.add_argument("--loss", default="caffe", choices=["caffe", "mean"],
                        help="Euclidean loss scale: caffe = sum/(2N) as in the paper, mean = per-pixel MSE")
    parser.add_argument("--clip-grad-norm", type=cli.positive_float, default=None)
    parser.add_argument("--input-size", type=cli.positive_int, default=224, help="training crop side")
    parser.add_argument("--crop-scale", type=float, nargs=2, default=(0.08, 1.0),
                        help="random resized crop's area range (torchvision's default, as Kahsolt)")
    parser.add_argument("--eval-max-side", type=cli.positive_int, default=None,
                        help="shrink evaluation images to this longest side (default: native resolution)")
    parser.add_argument("--val-fraction", type=cli.holdout_share, default=0.1,
                        help="training images held out to monitor each epoch and pick checkpoint_best.pt")
    parser.add_argument("--eval-checkpoint", default="last", choices=["last", "best"],
                        help="which checkpoint is scored on the test split at the end")
    parser.add_argument("--max-steps-per-epoch", type=cli.positive_int, default=None,
                        help="cap steps per epoch (smoke tests)")
    parser.add_argument("--eval-only", action="store_true", help="score --weights (or the run's checkpoint) and exit")
    parser.add_argument("--weights", default=None, help="checkpoint to evaluate with --eval-only")
    parser.add_argument("--no-baselines-grid", dest="baselines_grid", action="store_false",
                        help="leave the saliency/objectness columns out of the Fig.-6 grid")
    cli.add_runtime_args(parser, **RUNTIME_DEFAULTS)
    add_run_args(parser, default_output=f"runs/{PACKAGE}")
    parser.set_defaults(experiment_prefix=default_experiment_prefix)


def train_fcnel_parser(add_help: bool = True) -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(description="FCNEL emotion stimuli map training", add_help=add_help)
    add_common_args(parser, default_experiment_prefix="fcnel")
    return parser


def train_emofcnel_parser(add_help: bool = True) -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(description="EmoFCNEL: label-conditioned stimuli maps", add_help=add_help)
    add_common_args(parser, default_experiment_prefix="emofcnel")
    parser.add_argument("--embed-dim", type=cli.positive_int, default=6,
                        help="label embedding channels tiled over the image (Kahsolt's d_embd=6)")
    parser.add_argument("--sensitivity-images", type=cli.positive_int, default=None,
                        help="test images used for the label-sensitivity analysis (default: all)")
    parser.set_defaults(arch="fcn_resnet50", backbone="resnet50", lr=1e-2, momentum=0.9, lr_scheduler="cosine",
                        lr_min=1e-7, loss="mean", epochs=100, batch_size=20)
    return parser


def train_roi_clf_parser(add_help: bool = True) -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(description="Emotion from the ground-truth stimuli map alone", add_help=add_help)
    parser.add_argument("--data-path", default="data/EmotionROI")
    parser.add_argument("--backbone", default="resnet50", choices=[b for b in BACKBONES if b != "alexnet"])
    parser.add_argument("--pretrained", default=None,
                        help="a registry name (imagenet_resnet50_v2, his start) or a file: torchvision's "
                             "ImageNet resnet state_dict, or Kahsolt's trained model-RIO_clf.pth")
    parser.add_argument("--epochs", type=cli.positive_int, default=130)
    parser.add_argument("-b", "--batch-size", type=cli.positive_int, default=16)
    parser.add_argument("--opt", default="sgd", choices=["sgd", "adam"])
    parser.add_argument("--lr", type=cli.positive_float, default=0.1)
    parser.add_argument("--momentum", type=cli.nonnegative_float, default=0.9)
    parser.add_argument("--wd", "--weight-decay", dest="weight_decay", type=cli.nonnegative_float, default=5e-4)
    parser.add_argument("--wd-skip-norm-bias", action="store_true",
                        help="no weight decay on biases and norm layers (default: every parameter, as Kahsolt)")
    parser.add_argument("--lr-scheduler", default="cosine", choices=["constant", "cosine", "step"])
    parser.add_argument("--lr-step-size", type=cli.positive_int, default=10)
    parser.add_argument("--lr-min", type=cli.nonnegative_float, default=1e-7,
                        help="cosine schedule's final lr (eta_min)")
    parser.add_argument("--label-smoothing", type=cli.probability, default=0.0)
    parser.add_argument("--input-size", type=cli.positive_int, default=224,
                        help="training crop side (random resized crop, nearest-exact)")
    parser.add_argument("--crop-scale", type=float, nargs=2, default=(0.08, 1.0),
                        help="random resized crop's area range (torchvision's default, as Kahsolt)")
    parser.add_argument("--eval-size", type=cli.positive_int, default=None,
                        help="resize evaluation maps to this square (default: native size, batch 1, as Kahsolt)")
    parser.add_argument("--val-fraction", type=cli.holdout_share, default=0.1)
    parser.add_argument("--eval-checkpoint", default="best", choices=["last", "best"])
    parser.add_argument("--max-steps-per-epoch", type=cli.positive_int, default=None)
    cli.add_runtime_args(parser, **RUNTIME_DEFAULTS)
    add_run_args(parser, default_output=f"runs/{PACKAGE}")
    return parser


def evaluate_baselines_parser(add_help: bool = True) -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(description="Saliency / centre / objectness / mean-map baselines",
                                     add_help=add_help)
    parser.add_argument("--data-path", default="data/EmotionROI")
    parser.add_argument("--split", default="test", choices=["test", "train"])
    parser.add_argument("--baselines", nargs="+", default=list(BASELINES), choices=BASELINES)
    parser.add_argument("--output", default=f"runs/{PACKAGE}")
    parser.add_argument("--overwrite", action="store_true")
    return parser


def infer_parser(conditioned: bool) -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(description=INFER_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", required=True, help="checkpoint_last.pt / checkpoint_best.pt of a training run")
    parser.add_argument("--input", required=True, help="an image, an image folder, or a text file with one path a line")
    parser.add_argument("--output", required=True, help="folder for the maps and overlays (must not exist yet)")
    parser.add_argument("--overwrite", action="store_true", help="write into an existing --output folder")
    parser.add_argument("--arch", choices=ARCHS, default=None, help="default: from the run's args.yaml")
    parser.add_argument("--backbone", choices=BACKBONES, default=None, help="default: from the run's args.yaml")
    parser.add_argument("--upsample", choices=UPSAMPLE_MODES, default=None, help="default: from the run's args.yaml")
    parser.add_argument("--max-side", type=cli.positive_int, default=None,
                        help="shrink the network input (maps keep image size)")
    parser.add_argument("--alpha", type=cli.probability, default=0.5, help="overlay opacity")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=cli.nonnegative_int, default=0, help="torch CPU threads (0: torch's default)")
    if conditioned:
        parser.add_argument("--embed-dim", type=cli.positive_int, default=None)
        parser.add_argument("--label", default="all", choices=["all", *EMOTIONS],
                            help="emotion to condition on; 'all' writes one map per emotion")
    return parser


def reproduce_parser(description: str) -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default="data")
    parser.add_argument("--out", default=f"runs/reproduce/{PACKAGE}")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=cli.nonnegative_int, default=None,
                        help="CPU threads per run (default: 1 for the demo, torch's default with real data)")
    parser.add_argument("--alexnet-weights", default="imagenet_alexnet",
                        help="real data: the paper recipe's trunk start (registry name or file; none = random)")
    parser.add_argument("--fcn-resnet50-weights", default="fcn_resnet50_coco",
                        help="real data: Kahsolt's FCN start, torchvision's fcn_resnet50 COCO file (name or file)")
    parser.add_argument("--resnet50-weights", default="imagenet_resnet50_v2",
                        help="real data: Kahsolt's classifier start, ImageNet ResNet-50 IMAGENET1K_V2 (name or file)")
    return parser


def bench_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(description="Throughput of FCNEL's training loader and training step, with peak memory")
    parser.add_argument("--data-path", default=None, help="EmotionROI (default: demo data in a temporary folder)")
    parser.add_argument("--config", default="fcnel_kahsolt.yaml",
                        help="the recipe whose network, input size and batch are timed (a file, or a name in configs/)")
    parser.add_argument("-b", "--batch-size", type=cli.positive_int, default=None, help="default: the recipe's")
    add_benchmark_args(parser, ("loader", "step"), ("fp32", "bf16", "channels_last", "jemalloc", "tcmalloc",
                                                    "bf16+channels_last+jemalloc"))
    return parser
