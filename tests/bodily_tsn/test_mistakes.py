"""bodily_tsn's entry points on broken copies of the demo data and on bad options: each row is one line on stderr
naming the file or option, a non-zero exit, and nothing under the workspace created, changed or removed (a row
with an output folder may leave that run's log there: it met the broken file after training started)."""

from __future__ import annotations

import shutil

import pytest
from helpers.mistakes import assert_one_line_error, case_ids, run_module, write_user_files

from bodily_tsn.demo_data import make_demo_dataset
from bodily_tsn.train_EmoReact import get_args_parser
from shared_utils.runs import parse_args_with_config

TINY = ["--arch", "mobilenet_v2", "--num_segments", "2", "--crop_size", "32", "--scale_size", "36", "-b", "4",
        "--no_partialbn", "--lr", "0.01", "--device", "cpu", "--threads", "1", "--pretrained", "none",
        "--epochs", "1"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, monkeypatch_module):
    root = tmp_path_factory.mktemp("bodily_mistakes")
    demo = make_demo_dataset(root / "demo", {"train": 4, "val": 2, "test": 2}, show_progress=False)
    write_user_files(root, {"bad_bool.yaml": "shift: perhaps\n", "bad_type.yaml": "num_segments: three\n"})

    def broken_copy(name: str):
        copy = root / name
        shutil.copytree(demo, copy)
        return copy

    bad_label = broken_copy("bad_label") / "train.csv"
    lines = bad_label.read_text().splitlines()
    lines[1] = lines[1].replace(",0,", ",maybe,", 1)
    bad_label.write_text("\n".join(lines) + "\n")
    bad_valence = broken_copy("bad_valence") / "val.csv"
    lines = bad_valence.read_text().splitlines()
    lines[2] = lines[2].rsplit(",", 1)[0] + ",high"
    bad_valence.write_text("\n".join(lines) + "\n")
    no_frames = broken_copy("no_frames")
    shutil.rmtree(sorted((no_frames / "Data" / "Train").iterdir())[-1])  # one clip's frames folder
    corrupt = broken_copy("corrupt_frame")
    for folder in sorted((corrupt / "Data" / "Train").iterdir()):
        for frame in sorted(folder.glob("*.jpg"))[1:]:
            # every frame but the first (read when the clips are indexed) of every training clip: met in the
            # first training batch
            frame.write_bytes(frame.read_bytes()[:200])
    # the same frames in the --frames_dir layout (<dir>/<stem>/000001.jpg, as tools/vid2img_emoreact.py writes)
    for split in ("Train", "Validation", "Test"):
        for folder in sorted((corrupt / "Data" / split).iterdir()):
            shutil.copytree(folder, root / "frames_dir_corrupt" / folder.name.removesuffix("_frames_full"))
    corrupt_first = broken_copy("corrupt_first_frame")
    first = sorted((corrupt_first / "Data" / "Validation").iterdir())[0] / "000001.jpg"
    first.write_bytes(b"not a jpeg")

    code = run_module("bodily_tsn.train_EmoReact", [*TINY, "--data_root", str(demo), "--output",
                                                    str(root / "runs"), "--exp_name", "tiny"], monkeypatch_module)
    assert code in (0, None)
    return root


# (module, arguments with {root} placeholders, text the error line must contain, output folder allowed to change)
CASES = [
    # options
    ("bodily_tsn.train_EmoReact", ["--limit_clips", "-1"], "--limit_clips", None),
    ("bodily_tsn.train_EmoReact", ["--num_segments", "0"], "--num_segments", None),
    ("bodily_tsn.train_EmoReact", ["-b", "0"], "--batch-size", None),
    ("bodily_tsn.train_EmoReact", ["--epochs", "0"], "--epochs", None),
    ("bodily_tsn.train_EmoReact", ["--lr", "nan"], "--lr", None),
    ("bodily_tsn.train_EmoReact", ["--lr_steps", "0"], "--lr_steps", None),
    ("bodily_tsn.train_EmoReact", ["--data_root", "{root}/demo", "--config", "{root}/bad_bool.yaml"], "shift", None),
    ("bodily_tsn.train_EmoReact", ["--data_root", "{root}/demo", "--config", "{root}/bad_type.yaml"], "num_segments",
     None),
    ("bodily_tsn.train_EmoReact", [*TINY, "--data_root", "{root}/demo", "--output", "{root}/a_file/runs"], "a_file",
     None),
    ("bodily_tsn.train_EmoReact", [*TINY, "--data_root", "{root}/demo", "--output", "{root}/runs", "--exp_name",
                                   "tiny"], "tiny", None),  # an existing run is never reused silently
    ("bodily_tsn.train_EmoReact", [*TINY[:2], "--num_segments", "3", *TINY[4:], "--data_root", "{root}/demo",
                                   "--output", "{root}/runs", "--exp_name", "tiny", "-r", "{root}/runs/tiny"],
     "num_segments: 2 -> 3", None),
    ("bodily_tsn.train_EmoReact", [*TINY, "--data_root", "{root}/demo", "--output", "{root}/runs", "--exp_name",
                                   "scored", "--test_only", "-r", "{root}/list.pt"], "list.pt", None),
    ("bodily_tsn.cam", ["--run", "{root}/no_run", "--label", "Happiness"], "no_run", None),
    ("bodily_tsn.cam", ["--run", "{root}/runs/tiny", "--label", "Happiness", "--num_clips", "0"], "--num_clips",
     None),
    ("bodily_tsn.cam", ["--run", "{root}/runs/tiny", "--label", "Happiness", "--out", "{root}/user_data"],
     "user_data", None),
    ("bodily_tsn.benchmark", ["--clips", "0"], "--clips", None),
    ("bodily_tsn.demo_data", ["--out", "{root}/user_data"], "user_data", None),
    ("bodily_tsn.demo_data", ["--out", "{root}/a_file"], "a_file", None),
    ("bodily_tsn.demo_data", ["--out", "{root}/new", "--train", "0"], "--train", None),
    ("bodily_tsn.tools.mask_faces", ["--data_root", "{root}/demo", "--frames_dir", "{root}/demo/Data",
                                     "--out", "{root}/demo/Data"], "--out", None),
    ("bodily_tsn.app", ["--checkpoint", "{root}/missing.pt"], "missing.pt", None),
    # broken data
    ("bodily_tsn.train_EmoReact", [*TINY, "--data_root", "{root}/no_such_folder"], "no_such_folder", None),
    ("bodily_tsn.train_EmoReact", [*TINY, "--data_root", "{root}/bad_label", "--output", "{root}/runs"],
     "bad_label/train.csv", None),
    ("bodily_tsn.train_EmoReact", [*TINY, "--data_root", "{root}/bad_valence", "--output", "{root}/runs"],
     "bad_valence/val.csv", None),
    ("bodily_tsn.train_EmoReact", [*TINY, "--data_root", "{root}/no_frames", "--output", "{root}/runs"],
     "no_frames/Data/Train", None),
    ("bodily_tsn.train_EmoReact", [*TINY, "--data_root", "{root}/corrupt_first_frame", "--output", "{root}/runs"],
     "corrupt_first_frame/Data/Validation/", None),
    ("bodily_tsn.train_EmoReact", [*TINY, "--data_root", "{root}/corrupt_frame", "--output", "{root}/runs_mid",
                                   "--exp_name", "mid"], "corrupt_frame/Data/Train/", "runs_mid"),
    ("bodily_tsn.train_EmoReact", [*TINY, "--data_root", "{root}/demo", "--frames_dir", "{root}/frames_dir_corrupt",
                                   "--output", "{root}/runs_mid", "--exp_name", "mid_frames_dir"],
     "frames_dir_corrupt/demo", "runs_mid"),
    ("bodily_tsn.cam", ["--run", "{root}/runs/tiny", "--label", "Happiness", "--out", "{root}/a_file/cam"], "a_file",
     None),
]


@pytest.mark.filterwarnings("ignore:.*found in sys.modules:RuntimeWarning")  # runpy re-running a module
@pytest.mark.parametrize("module,argv,expected,output", CASES, ids=case_ids(CASES))
def test_mistake_is_one_line_and_touches_nothing(module, argv, expected, output, workspace, capsys, monkeypatch):
    argv = [a.format(root=workspace) for a in argv]
    assert_one_line_error(module, argv, expected, workspace, capsys, monkeypatch, output)


@pytest.mark.parametrize("text,value", [('"no"', False), ('"false"', False), ("false", False), ('"yes"', True)])
def test_config_booleans_given_as_strings(tmp_path, text, value):
    """A config's "no" / "false" is false, as on the command line (a string is not taken as true)."""
    (tmp_path / "c.yaml").write_text(f"mask: {text}\nshift: {text}\n")
    args = parse_args_with_config(get_args_parser(), ["--config", str(tmp_path / "c.yaml")])
    assert args.mask is value and args.shift is value
