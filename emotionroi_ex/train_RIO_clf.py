"""``train_RIO_clf.py`` (sic): the file name of Kahsolt/EmotionROI-ex's classifier script, kept so the original's
command works as it is; the same script as :mod:`emotionroi_ex.train_ROI_clf` (same flags, same training)."""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)
from emotionroi_ex.options import train_roi_clf_parser as get_args_parser
from shared_utils.cli import answer_help_first

answer_help_first(get_args_parser, __name__)

from emotionroi_ex.map_classifier_training import train_map_classifier as main
from shared_utils.runs import parse_args_with_config

__all__ = ["get_args_parser", "main"]

if __name__ == "__main__":
    main(parse_args_with_config(get_args_parser()))
