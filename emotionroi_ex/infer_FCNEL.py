"""Write FCNEL's predicted stimuli map and an overlay for every image in a folder or list.

    python -m emotionroi_ex.infer_FCNEL --weights runs/emotionroi_ex/fcnel_fcn32s_alexnet/checkpoint_last.pt \\
        --input photos/ --output maps/
"""

from emotionroi_ex.infer import get_args_parser, main

if __name__ == "__main__":
    main(get_args_parser(conditioned=False).parse_args(), conditioned=False)
