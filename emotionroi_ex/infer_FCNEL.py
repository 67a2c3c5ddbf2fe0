"""Write FCNEL's predicted stimuli map and an overlay for every image in a folder or list.

    python -m emotionroi_ex.infer_FCNEL --weights runs/emotionroi_ex/fcnel_fcn32s_alexnet/checkpoint_last.pt \\
        --input photos/ --output maps/
"""

# ruff: noqa: E402  (the import after answer_help_first loads torch: --help answers before it)
from functools import partial

from emotionroi_ex.options import infer_parser
from shared_utils.cli import answer_help_first

answer_help_first(partial(infer_parser, conditioned=False), __name__)

from emotionroi_ex.infer import main

if __name__ == "__main__":
    main(infer_parser(conditioned=False).parse_args(), conditioned=False)
