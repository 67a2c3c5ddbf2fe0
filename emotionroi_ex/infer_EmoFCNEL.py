"""Write EmoFCNEL's predicted stimuli map(s) and overlays for every image in a folder or list.

    python -m emotionroi_ex.infer_EmoFCNEL --weights runs/emotionroi_ex/emofcnel/checkpoint_last.pt \\
        --input photos/ --output maps/ --label joy      # or --label all: one map per emotion
"""

from emotionroi_ex.infer import get_args_parser, main

if __name__ == "__main__":
    main(get_args_parser(conditioned=True).parse_args(), conditioned=True)
