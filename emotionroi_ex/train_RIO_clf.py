"""``train_RIO_clf.py`` (sic): the file name of Kahsolt/EmotionROI-ex's classifier script, kept so the original's
command works as it is; the script is :mod:`emotionroi_ex.train_ROI_clf` (same flags)."""

from emotionroi_ex.train_ROI_clf import get_args_parser, main
from shared_utils.runs import parse_args_with_config

__all__ = ["get_args_parser", "main"]

if __name__ == "__main__":
    main(parse_args_with_config(get_args_parser()))
