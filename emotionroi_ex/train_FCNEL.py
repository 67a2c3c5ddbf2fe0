"""Train FCNEL: predict the emotion stimuli map of an image (Peng et al., ICIP 2016).

    python -m emotionroi_ex.train_FCNEL --config emotionroi_ex/configs/fcnel_paper_alexnet.yaml \\
        --data-path data/EmotionROI --pretrained alexnet-owt-7be5be79.pth

The paper: FCN-32s on AlexNet, one output channel, Euclidean loss, lr 1e-8, 20 epochs.  Kahsolt's
re-implementation: torchvision's fcn_resnet50 from its COCO weights, nearest-exact upsampling, SGD lr 1e-2
cosine to 1e-7, 100 epochs, batch 20 (``configs/fcnel_kahsolt.yaml``).  Writes the run folder (args.yaml, summary.csv,
checkpoints, learning curves, per-image metrics, the Fig.-6 grid and results.json).
"""

from __future__ import annotations

import argparse

from emotionroi_ex.map_training import add_common_args, run
from shared_utils.cli import ArgumentParser
from shared_utils.runs import parse_args_with_config


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    parser = ArgumentParser(description="FCNEL emotion stimuli map training", add_help=add_help)
    add_common_args(parser, default_experiment_prefix="fcnel")
    return parser


def main(args):
    run_dir, _, rt, _, _ = run(args, conditioned=False)
    rt.close()
    return run_dir


if __name__ == "__main__":
    main(parse_args_with_config(get_args_parser()))
