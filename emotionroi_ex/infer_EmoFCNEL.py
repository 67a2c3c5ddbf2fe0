"""Write EmoFCNEL's predicted stimuli map(s) and overlays for every image in a folder or list.

    python -m emotionroi_ex.infer_EmoFCNEL --weights runs/emotionroi_ex/emofcnel/checkpoint_last.pt \\
        --input photos/ --output maps/ --label joy      # or --label all: one map per emotion
"""

# ruff: noqa: E402  (the import after answer_help_first loads torch: --help answers before it)
from functools import partial

from emotionroi_ex.options import infer_parser
from shared_utils.cli import answer_help_first

answer_help_first(partial(infer_parser, conditioned=True), __name__)

from emotionroi_ex.infer import main

if __name__ == "__main__":
    main(infer_parser(conditioned=True).parse_args(), conditioned=True)
