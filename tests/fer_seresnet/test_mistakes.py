"""fer_seresnet's entry points on broken copies of the demo data and on bad options: each row is one line on stderr
naming the file or option, a non-zero exit, and nothing under the workspace created, changed or removed."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest
from helpers.mistakes import assert_one_line_error, case_ids, run_module, write_user_files

from fer_seresnet.dataset import read_gray
from fer_seresnet.demo_data import write_demo

TINY = ["--epochs", "1", "--width", "4", "-b", "32", "--eval-batch-size", "64", "--threads", "1"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, monkeypatch_module):
    root = tmp_path_factory.mktemp("fer_mistakes")
    demo = write_demo(root / "demo", layout="both")
    fer = demo / "fer2013"
    write_user_files(root, {"bad_type.yaml": "batch_size: many\n", "bad_bool.yaml": "eval_ten_crop: perhaps\n",
                            "unknown_key.yaml": "batch_sise: 8\n"})

    # broken copies of the demo data
    folders = root / "truncated_jpeg"
    shutil.copytree(fer, folders, ignore=shutil.ignore_patterns("fer2013.csv"))
    victim = sorted((folders / "train" / "happy").glob("*.jpg"))[0]
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    (root / "truncated_jpeg_name").write_text(victim.name)
    bad_csv = root / "bad_csv"
    bad_csv.mkdir()
    lines = (fer / "fer2013.csv").read_text().splitlines()
    lines[5] = "3,12 13 oops,Training"
    (bad_csv / "fer2013.csv").write_text("\n".join(lines) + "\n")
    train_only = root / "train_only"
    shutil.copytree(fer / "train", train_only / "train")
    unknown_class = root / "unknown_class"
    shutil.copytree(fer, unknown_class, ignore=shutil.ignore_patterns("fer2013.csv"))
    (unknown_class / "train" / "happy").rename(unknown_class / "train" / "joyful")

    # one finished tiny run, to resume with changed options
    code = run_module("fer_seresnet.train", ["--data-path", str(fer), "--output", str(root / "runs"),
                                             "--experiment", "tiny", *TINY], monkeypatch_module)
    assert code in (0, None)
    return root


# (module, arguments with {root} placeholders, text the error line must contain)
CASES = [
    # options
    ("fer_seresnet.train", ["--data-path", "{root}/demo/fer2013", "-b", "0"], "--batch-size"),
    ("fer_seresnet.train", ["--data-path", "{root}/demo/fer2013", "-b", "-4"], "--batch-size"),
    ("fer_seresnet.train", ["--data-path", "{root}/demo/fer2013", "--epochs", "0"], "--epochs"),
    ("fer_seresnet.train", ["--data-path", "{root}/demo/fer2013", "--lr", "nan"], "--lr"),
    ("fer_seresnet.train", ["--data-path", "{root}/demo/fer2013", "--lr", "-0.1"], "--lr"),
    ("fer_seresnet.train", ["--data-path", "{root}/demo/fer2013", "--holdout-fraction", "1.0"], "--holdout-fraction"),
    ("fer_seresnet.train", ["--data-path", "{root}/demo/fer2013", "--config", "{root}/bad_type.yaml"], "batch_size"),
    ("fer_seresnet.train", ["--data-path", "{root}/demo/fer2013", "--config", "{root}/bad_bool.yaml"],
     "eval_ten_crop"),
    ("fer_seresnet.train", ["--data-path", "{root}/demo/fer2013", "--config", "{root}/unknown_key.yaml"],
     "batch_sise"),
    ("fer_seresnet.train", ["--data-path", "{root}/demo/fer2013", *TINY, "--output", "{root}/a_file/runs"], "a_file"),
    ("fer_seresnet.train", ["--data-path", "{root}/demo/fer2013", *TINY, "--output", "{root}/runs",
                            "--experiment", "tiny"], "tiny"),  # an existing run is never reused silently
    ("fer_seresnet.train", ["--data-path", "{root}/demo/fer2013", *TINY[:2], "--width", "8", "--output",
                            "{root}/runs", "--experiment", "tiny", "--resume"], "width: 4 -> 8"),
    ("fer_seresnet.evaluate", ["--checkpoint", "{root}/list.pt", "--data-path", "{root}/demo/fer2013"], "list.pt"),
    ("fer_seresnet.evaluate", ["--checkpoint", "{root}/runs/tiny/checkpoint_best.pt", "--data-path",
                               "{root}/train_only", "--output", "{root}/runs"], "--split train"),
    ("fer_seresnet.visualize", ["--data-path", "{root}/demo/fer2013", "--per-class", "0", "--out", "{root}/figs"],
     "--per-class"),
    ("fer_seresnet.visualize", ["--checkpoint", "{root}/runs/tiny/checkpoint_best.pt", "--data-path",
                                "{root}/demo/fer2013", "--out", "{root}/user_data"], "user_data"),
    ("fer_seresnet.visualize", ["--checkpoint", "{root}/runs/tiny/checkpoint_best.pt", "--data-path",
                                "{root}/demo/fer2013", "--stage", "7", "--out", "{root}/figs"], "--stage"),
    ("fer_seresnet.bench", ["--data-path", "{root}/demo/fer2013", "-b", "100000", "--steps", "1", "--rounds", "1"],
     "batch"),
    ("fer_seresnet.bench", ["--steps", "0"], "--steps"),
    ("fer_seresnet.demo_data", ["--out", "{root}/user_data"], "user_data"),
    ("fer_seresnet.demo_data", ["--out", "{root}/a_file"], "a_file"),
    ("fer_seresnet.predict", ["{root}/no_photo.jpg"], "no_photo.jpg"),
    ("fer_seresnet.predict", ["{root}/a_file", "--every", "0"], "--every"),
    ("fer_seresnet.predict", ["{root}/a_file", "--face-scale", "0.8"], "--face-scale"),  # would cut the face itself
    ("fer_seresnet.framing", ["--data-path", "{root}/no_data"], "no_data"),
    ("fer_seresnet.predict", ["{root}/a_file"], "a_file"),  # not an image
    ("fer_seresnet.predict", ["{root}/demo/rafdb", "--out", "{root}/a_file/predictions"], "a_file"),
    ("fer_seresnet.visualize", ["--checkpoint", "{root}/runs/tiny/checkpoint_best.pt", "--data-path",
                                "{root}/demo/fer2013", "--out", "{root}/a_file/figs"], "a_file"),
    ("fer_seresnet.export_model", ["{root}/runs/tiny", "--out", "{root}/shipped.pt"], "demo"),
    ("fer_seresnet.predict", ["{root}/demo/rafdb", "--checkpoint", "{root}/list.pt"], "list.pt"),
    ("fer_seresnet.dataset", ["describe", "--dataset", "fer2013", "--data-path", "{root}/no_such_folder"],
     "no_such_folder"),
    # broken data
    ("fer_seresnet.train", ["--data-path", "{root}/no_such_folder"], "no_such_folder"),
    ("fer_seresnet.train", ["--data-path", "{root}/truncated_jpeg", *TINY, "--output", "{root}/runs"],
     "{truncated}"),
    ("fer_seresnet.train", ["--data-path", "{root}/bad_csv", *TINY, "--output", "{root}/runs"], "line 6"),
    ("fer_seresnet.train", ["--data-path", "{root}/unknown_class", *TINY, "--output", "{root}/runs"], "joyful"),
    ("fer_seresnet.train", ["--data-path", "{root}/train_only/train/happy", *TINY, "--output", "{root}/runs"],
     "happy"),
    ("fer_seresnet.app", ["--port", "0"], "--port"),
    ("fer_seresnet.app", ["--checkpoint", "{root}/list.pt"], "list.pt"),
]


@pytest.mark.filterwarnings("ignore:.*found in sys.modules:RuntimeWarning")  # runpy re-running a module
@pytest.mark.parametrize("module,argv,expected", CASES, ids=case_ids(CASES))
def test_mistake_is_one_line_and_touches_nothing(module, argv, expected, workspace, capsys, monkeypatch):
    truncated = (workspace / "truncated_jpeg_name").read_text()
    argv = [a.format(root=workspace) for a in argv]
    assert_one_line_error(module, argv, expected.format(root=workspace, truncated=truncated), workspace, capsys,
                          monkeypatch)


def test_16_bit_png_keeps_its_values(tmp_path):
    """A 16-bit greyscale face is read at its real brightness, not clipped to white."""
    ramp = (np.arange(48 * 48, dtype=np.uint32).reshape(48, 48) * 28).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "face16.png"), ramp)
    assert np.array_equal(read_gray(tmp_path / "face16.png"), (ramp >> 8).astype(np.uint8))
