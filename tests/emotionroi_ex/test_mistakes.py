"""emotionroi_ex's entry points on broken copies of the demo data and on bad options: each row is one line on stderr
naming the file or option, a non-zero exit, and nothing under the workspace created, changed or removed (a row
with an output folder may leave that run's log there: it met the broken file after training started)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from helpers.mistakes import assert_one_line_error, case_ids, write_user_files
from PIL import Image

from emotionroi_ex.dataset import load_map
from emotionroi_ex.demo_data import write_demo_dataset

TINY = ["--backbone", "resnet50", "--arch", "fcn_resnet50", "--input-size", "32", "-b", "4", "--opt", "adam",
        "--lr", "1e-3", "--loss", "mean", "--device", "cpu", "--epochs", "1", "--no-baselines-grid"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("eroi_mistakes")
    demo = write_demo_dataset(root / "EmotionROI", per_class=4, seed=5, size_range=(40, 48))
    write_user_files(root, {"bad_type.yaml": "epochs: many\n", "bad_bool.yaml": "wd_skip_norm_bias: perhaps\n"})

    def broken_copy(name: str):
        copy = root / name / "EmotionROI"
        shutil.copytree(demo, copy)
        return copy

    split = broken_copy("both_lists") / "training_testing_split"
    first_training = (split / "training.txt").read_text().split()[0]
    with (split / "testing.txt").open("a") as handle:
        handle.write(first_training + "\n")
    (broken_copy("missing_map") / "ground_truth" / first_training).unlink()
    small = broken_copy("map_size") / "ground_truth" / first_training
    Image.open(small).resize((7, 7)).save(small)
    truncated = broken_copy("truncated_image") / "images" / first_training
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    (broken_copy("unknown_emotion") / "training_testing_split" / "training.txt").write_text("joyful/1.jpg\n")
    return root, first_training


# (module, arguments with {root} placeholders, text the error line must contain, output folder allowed to change)
CASES = [
    # options
    ("emotionroi_ex.train_FCNEL", ["-b", "0"], "--batch-size", None),
    ("emotionroi_ex.train_FCNEL", ["--epochs", "0"], "--epochs", None),
    ("emotionroi_ex.train_FCNEL", ["--lr", "inf"], "--lr", None),
    ("emotionroi_ex.train_FCNEL", ["--data-path", "{root}/EmotionROI", "--config", "{root}/bad_type.yaml"], "epochs",
     None),
    ("emotionroi_ex.train_FCNEL", ["--data-path", "{root}/EmotionROI", "--config", "{root}/bad_bool.yaml"],
     "wd_skip_norm_bias", None),
    ("emotionroi_ex.train_FCNEL", ["--data-path", "{root}/EmotionROI", *TINY, "--output", "{root}/a_file/runs"],
     "a_file", None),
    ("emotionroi_ex.train_FCNEL", ["--data-path", "{root}/EmotionROI", *TINY, "--output", "{root}/runs",
                                   "--eval-only", "--experiment", "never_trained"], "never_trained", None),
    ("emotionroi_ex.train_FCNEL", ["--data-path", "{root}/EmotionROI", *TINY, "--output", "{root}/runs",
                                   "--eval-only", "--weights", "{root}/list.pt"], "list.pt", None),
    ("emotionroi_ex.train_EmoFCNEL", ["--embed-dim", "0"], "--embed-dim", None),
    ("emotionroi_ex.train_ROI_clf", ["-b", "0"], "--batch-size", None),
    ("emotionroi_ex.train_ROI_clf", ["--val-fraction", "1.0"], "--val-fraction", None),
    ("emotionroi_ex.train_RIO_clf", ["--label-smoothing", "2"], "--label-smoothing", None),
    ("emotionroi_ex.infer_FCNEL", ["--weights", "{root}/list.pt", "--input", "{root}/EmotionROI/images",
                                   "--output", "{root}/maps"], "list.pt", None),
    ("emotionroi_ex.infer_FCNEL", ["--weights", "{root}/missing.pt", "--input", "{root}/EmotionROI/images",
                                   "--output", "{root}/maps"], "missing.pt", None),
    ("emotionroi_ex.train_EmoFCNEL", ["--data-path", "{root}/EmotionROI", *TINY, "--output", "{root}/a_file/runs"],
     "a_file", None),
    ("emotionroi_ex.demo_data", ["--out", "{root}/eroi", "--min-size", "200", "--max-size", "100"], "--min-size",
     None),
    ("emotionroi_ex.demo_data", ["--out", "{root}/user_data"], "user_data", None),
    ("emotionroi_ex.demo_data", ["--out", "{root}/a_file"], "a_file", None),
    ("emotionroi_ex.demo_data", ["--out", "{root}/new", "--per-class", "0"], "--per-class", None),
    ("emotionroi_ex.app", ["--checkpoint", "{root}/a_file"], "a_file", None),
    # broken data
    ("emotionroi_ex.train_FCNEL", ["--data-path", "{root}/no_such_folder", *TINY], "no_such_folder", None),
    ("emotionroi_ex.train_FCNEL", ["--data-path", "{root}/both_lists", *TINY, "--output", "{root}/runs"],
     "both training.txt and testing.txt", None),
    ("emotionroi_ex.train_FCNEL", ["--data-path", "{root}/missing_map", *TINY, "--output", "{root}/runs"],
     "missing_map/EmotionROI/ground_truth/{first}", None),
    ("emotionroi_ex.train_FCNEL", ["--data-path", "{root}/map_size", *TINY, "--output", "{root}/runs"],
     "map is 7x7", None),
    ("emotionroi_ex.train_FCNEL", ["--data-path", "{root}/unknown_emotion", *TINY, "--output", "{root}/runs"],
     "joyful", None),
    ("emotionroi_ex.train_FCNEL", ["--data-path", "{root}/truncated_image", *TINY, "--output", "{root}/runs_mid",
                                   "--experiment", "mid", "--val-fraction", "0"],
     "truncated_image/EmotionROI/images/{first}", "runs_mid"),
    ("emotionroi_ex.train_ROI_clf", ["--data-path", "{root}/both_lists", "--output", "{root}/runs"],
     "both training.txt and testing.txt", None),
    ("emotionroi_ex.evaluate_baselines", ["--data-path", "{root}/missing_map", "--output", "{root}/runs"],
     "{first}", None),
]


@pytest.mark.filterwarnings("ignore:.*found in sys.modules:RuntimeWarning")  # runpy re-running a module
@pytest.mark.parametrize("module,argv,expected,output", CASES, ids=case_ids(CASES))
def test_mistake_is_one_line_and_touches_nothing(module, argv, expected, output, workspace, capsys, monkeypatch):
    root, first = workspace
    argv = [a.format(root=root) for a in argv]
    assert_one_line_error(module, argv, expected.format(first=first), root, capsys, monkeypatch, output)


def test_16_bit_map_keeps_its_values(tmp_path):
    """A 16-bit greyscale stimuli map is read at its real values; PIL's own convert would clip it to white."""
    ramp = (np.arange(32 * 32, dtype=np.uint32).reshape(32, 32) * 64).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "map16.png")
    assert np.array_equal(np.asarray(load_map(tmp_path / "map16.png")), (ramp >> 8).astype(np.uint8))
