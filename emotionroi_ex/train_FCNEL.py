"""Train FCNEL: predict the emotion stimuli map of an image (Peng et al., ICIP 2016).

    python -m emotionroi_ex.train_FCNEL --config emotionroi_ex/configs/fcnel_paper_alexnet.yaml \\
        --data-path data/EmotionROI --pretrained alexnet-owt-7be5be79.pth

The paper: FCN-32s on AlexNet, one output channel, Euclidean loss, lr 1e-8, 20 epochs.  Kahsolt's
re-implementation: torchvision's fcn_resnet50 from its COCO weights, nearest-exact upsampling, SGD lr 1e-2
cosine to 1e-7, 100 epochs, batch 20 (``configs/fcnel_kahsolt.yaml``).  Writes the run folder (args.yaml, summary.csv,
checkpoints, learning curves, per-image metrics, the Fig.-6 grid and results.json).
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from emotionroi_ex.options import train_fcnel_parser as get_args_parser
from shared_utils.cli import answer_help_first

answer_help_first(get_args_parser, __name__)


from emotionroi_ex.map_training import run
from shared_utils.runs import parse_args_with_config


def main(args):
    run_dir, _, rt, _, _ = run(args, conditioned=False)
    rt.close()
    return run_dir


if __name__ == "__main__":
    main(parse_args_with_config(get_args_parser()))
