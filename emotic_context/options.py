"""The package's command lines, light to import: every script builds its parser here, so ``--help`` answers before
torch is loaded (``shared_utils.cli.answer_help_first``)."""

from __future__ import annotations

import argparse

from shared_utils import cli
from shared_utils.benchmarking import add_benchmark_args
from shared_utils.runs import add_run_args

# Image sizes of the port's npy cache (context resized whole, body crop resized).
PORT_CONTEXT_SIZE, PORT_BODY_SIZE = 224, 128
COMMON_TRAIN_PERSONS = 23266  # persons in the common training split (bench_preprocess: a full-size split)
DEFAULT_PERSONS = {"train": 320, "val": 80, "test": 120}  # demo_data's split sizes
def main_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(description="EMOTIC body + context emotion recognition (Kosti et al. 2019)")
    parser.add_argument("--mode", default="train", choices=["train", "test", "train_test", "inference"])
    parser.add_argument("--data_path", default=None, help="mat2py.py output: <split>.csv and <split>_*_arr.npy")
    parser.add_argument("--data_source", default="npy", choices=["npy", "images"],
                        help="npy: the memory-mapped cache; images: read and crop the images on the fly")
    parser.add_argument("--image_dir", default=None, help="EMOTIC image root for --data_source images / inference "
                                                          "(default DATA_PATH/../emotic)")
    parser.add_argument("--experiment_path", default=None,
                        help="run folder (the port's flag); same as --output PARENT --experiment NAME")
    # model (the port's flags)
    parser.add_argument("--context_model", default="resnet18", choices=["resnet18", "resnet50"])
    parser.add_argument("--body_model", default="resnet18", choices=["resnet18", "resnet50"])
    parser.add_argument("--context_weights", default="places365",
                        help="context trunk start: places365 (the port's, prepare_models.py:15-42, from the weights "
                             "cache), none (random), or a file")
    parser.add_argument("--body_weights", default="imagenet",
                        help="body trunk start: imagenet (the port's, prepare_models.py:49), none, or a file")
    parser.add_argument("--freeze_trunks", action="store_true",
                        help="train only the fusion head; the trunks stay in train mode, so their BatchNorm "
                             "statistics still update (the port's Colab_train_emotic.ipynb, cells 22 and 24)")
    parser.add_argument("--mask_body", action=argparse.BooleanOptionalAction, default=False,
                        help="black out the person in the context image")
    parser.add_argument("--context_size", type=cli.positive_int, default=PORT_CONTEXT_SIZE,
                        help="context side for --data_source images and inference (the cache fixes its own)")
    parser.add_argument("--body_size", type=cli.positive_int, default=PORT_BODY_SIZE)
    # optimisation (the port: Adam, StepLR(7, 0.1))
    parser.add_argument("--learning_rate", type=cli.positive_float, default=0.01)
    parser.add_argument("--weight_decay", type=cli.nonnegative_float, default=5e-4)
    parser.add_argument("--optimizer", default="adam", choices=["adam", "sgd"])
    parser.add_argument("--momentum", type=cli.nonnegative_float, default=0.9, help="for --optimizer sgd")
    parser.add_argument("--lr_step", type=cli.positive_int, default=7, help="StepLR period in epochs")
    parser.add_argument("--lr_gamma", type=cli.positive_float, default=0.1)
    parser.add_argument("--epochs", type=cli.positive_int, default=15)
    parser.add_argument("--batch_size", type=cli.positive_int, default=52,
                        help="the port: twice the number of categories")
    parser.add_argument("--drop_last", action="store_true",
                        help="drop the last incomplete training batch (the notebook's DataLoader; main.py keeps it)")
    parser.add_argument("--select_by", default="last", choices=["last", "val_loss", "val_map"],
                        help="the model kept and tested: the last epoch's (the port's train.py:129-131), the "
                             "lowest validation loss (the notebook, cell 24) or the best validation mAP")
    parser.add_argument("--jitter", type=cli.nonnegative_float, default=0.4, help="colour-jitter strength (0 disables)")
    # losses (the port's flags)
    parser.add_argument("--cat_loss_weight", type=cli.nonnegative_float, default=0.5)
    parser.add_argument("--cont_loss_weight", type=cli.nonnegative_float, default=0.5)
    parser.add_argument("--continuous_loss_type", default="Smooth L1", choices=["L2", "Smooth L1"])
    parser.add_argument("--discrete_loss_weight_type", default="dynamic", choices=["dynamic", "mean", "static"])
    parser.add_argument("--cont_margin", type=cli.nonnegative_float, default=1.0,
                        help="margin of the continuous loss (1..10 scale)")
    # evaluation / inference
    parser.add_argument("--checkpoint", default=None, help="weights for test/inference (default: the run's best)")
    parser.add_argument("--inference_file", default=None, help="lines 'path x1 y1 x2 y2'")
    parser.add_argument("--inference_output", default=None, help="default: RUN/inference_results.csv")
    parser.add_argument("--inference_port_output", default=None,
                        help="the same predictions in the port's format, 'path cat ... v a d' a line "
                             "(its inference.py:117-135); default RUN/inference_list.txt")
    parser.add_argument("--thresholds", default=None,
                        help="26 thresholds (.npy/.json/.mat); default RUN/val_thresholds.npy. The authors' "
                             "thresholds_rkosti.mat were set on their Torch model's outputs, not this model's")
    parser.add_argument("--on_bad_row", default="skip", choices=["skip", "fail"],
                        help="inference: report a bad row (with its line number) and skip it, or stop")
    cli.add_runtime_args(parser)
    add_run_args(parser, default_output="runs/emotic_context")
    return parser

def mat2py_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(description="EMOTIC Annotations.mat -> port CSVs (+ streamed npy cache)")
    parser.add_argument("--data_dir", required=True, help="folder holding emotic/ and Annotations/")
    parser.add_argument("--save_dir_name", default="emotic_pre", help="output folder name inside --data_dir")
    parser.add_argument("--save_dir", default=None, help="output folder anywhere (overrides --save_dir_name)")
    parser.add_argument("--label", default="all", choices=["train", "val", "test", "all"])
    parser.add_argument("--generate_npy", action="store_true", help="also write the npy cache used for training")
    parser.add_argument("--from_csv", action="store_true",
                        help="read the port's <split>.csv from the output folder (or --csv_dir) instead of the .mat")
    parser.add_argument("--csv_dir", default=None, help="folder with the port's CSVs, for --from_csv")
    parser.add_argument("--annotations", default=None, help="Annotations.mat path (default DATA/Annotations/...)")
    parser.add_argument("--context_size", type=cli.positive_int, default=PORT_CONTEXT_SIZE,
                        help="context side in the cache")
    parser.add_argument("--body_size", type=cli.positive_int, default=PORT_BODY_SIZE,
                        help="body crop side in the cache")
    parser.add_argument("--drop_no_category", action="store_true",
                        help="drop persons with no category (the port keeps them, with all-zero labels)")
    return parser



def bench_preprocess_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        description="Peak memory and wall time of mat2py.py --generate_npy on a generated full-size training split")
    parser.add_argument("--out", required=True, help="scratch folder (several GB at full size)")
    parser.add_argument("--persons", type=cli.positive_int, default=COMMON_TRAIN_PERSONS)
    parser.add_argument("--image_size", type=cli.positive_int, default=64, help="side of the generated images")
    parser.add_argument("--context_size", type=cli.positive_int, default=PORT_CONTEXT_SIZE)
    parser.add_argument("--body_size", type=cli.positive_int, default=PORT_BODY_SIZE)
    parser.add_argument("--keep", action="store_true", help="keep the generated layout and cache")
    return parser



def convert_port_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        description="Convert a Tandon-A/emotic user's trained models into a checkpoint of this package")
    parser.add_argument("models_dir", help="the port's models folder (model_context1.pth, model_body1.pth, "
                                           "model_emotic1.pth)")
    parser.add_argument("out", help="checkpoint to write (refused if it exists)")
    return parser



def demo_data_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(description='A small, learnable EMOTIC-layout dataset')
    parser.add_argument("--out", default=None, help="dataset root to write (emotic/ and Annotations/ inside)")
    parser.add_argument("--train", type=cli.positive_int, default=DEFAULT_PERSONS["train"], help="persons in train")
    parser.add_argument("--val", type=cli.positive_int, default=DEFAULT_PERSONS["val"])
    parser.add_argument("--test", type=cli.positive_int, default=DEFAULT_PERSONS["test"])
    parser.add_argument("--seed", type=cli.nonnegative_int, default=0)
    parser.add_argument("--write-stats", metavar="REAL_JSON", default=None,
                        help="maintainers: recompute demo_label_stats.json from a real EMOTIC annotation file")
    return parser



def explain_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(description="Grad-CAM on the context and body streams of a trained run")
    parser.add_argument("--experiment_path", required=True)
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--image", required=True)
    parser.add_argument("--bbox", type=float, nargs=4, required=True, metavar=("X1", "Y1", "X2", "Y2"))
    parser.add_argument("--category", required=True, help="category name, e.g. Happiness")
    parser.add_argument("--method", default="gradcam", choices=cli.CAM_METHOD_NAMES)
    parser.add_argument("--out", default=None, help="default RUN/gradcam")
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier map of the same image name")
    parser.add_argument("--context_size", type=cli.positive_int, default=None,
                        help="context input side (default: the run's); the last block's map is 1/32 of it")
    parser.add_argument("--body_size", type=cli.positive_int, default=None, help="body input side (default: the run's)")
    return parser



def reproduce_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(description='emotic_context: reproduce the EMOTIC experiments (demo without data)')
    parser.add_argument("--data-root", default="data", help="folder that may hold emotic/ (the port's data_dir)")
    parser.add_argument("--out", default="runs/reproduce/emotic_context")
    parser.add_argument("--workers", type=cli.nonnegative_int, default=0)
    return parser


def bench_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        description="Throughput of the EMOTIC training loader and training step, with peak memory")
    parser.add_argument("--persons", type=cli.positive_int, default=208,
                        help="persons in the generated training split (demo layout, the port's cache sizes)")
    parser.add_argument("--batch_size", type=cli.positive_int, default=52, help="the port's 52")
    parser.add_argument("--context_model", default="resnet18", choices=["resnet18", "resnet50"])
    parser.add_argument("--body_model", default="resnet18", choices=["resnet18", "resnet50"])
    add_benchmark_args(parser, ("loader", "step"), ("fp32", "bf16", "channels_last", "jemalloc", "tcmalloc",
                                                    "bf16+channels_last+jemalloc"))
    parser.add_argument("--data_path", default=None, help=argparse.SUPPRESS)  # child runs: the parent's cache
    return parser
