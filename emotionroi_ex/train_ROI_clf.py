"""Classify the emotion from the ground-truth stimuli map alone (EmotionROI-ex's ROI classifier).

    python -m emotionroi_ex.train_ROI_clf --config emotionroi_ex/configs/roi_clf_resnet50.yaml \\
        --data-path data/EmotionROI

A ResNet (ResNet-50 by default) sees only the annotators' map (one channel, no pixels of the
photo): if it beats chance, the *shape and placement* of the stimulus region carries emotion
information.  Kahsolt's recipe (``configs/roi_clf_kahsolt.yaml``): his ``train_RIO_clf.py`` reported
17.2 % test accuracy (README.md:42-44).  Reports accuracy, macro F1 and per-emotion recall on the test
split against the majority-class predictor and uniform chance (1/6).  ``train_RIO_clf.py`` (sic) is the
original repository's file name for the same script.  The training itself is in ``map_classifier_training.py``.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from emotionroi_ex.options import train_roi_clf_parser as get_args_parser
from shared_utils.cli import answer_help_first

answer_help_first(get_args_parser, __name__)

from emotionroi_ex.map_classifier_training import train_map_classifier as main
from shared_utils.runs import parse_args_with_config

__all__ = ["get_args_parser", "main"]

if __name__ == "__main__":
    main(parse_args_with_config(get_args_parser()))
