"""emotic_context's entry points on broken copies of the demo data and on bad options: each row is one line on
stderr naming the file or option, a non-zero exit, and nothing under the workspace created, changed or removed."""

from __future__ import annotations

import shutil

import pytest
from helpers.mistakes import assert_one_line_error, case_ids, write_user_files

TRAIN = ["--epochs", "1", "--batch_size", "8", "--context_weights", "none", "--body_weights", "none"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, tiny_dataset, tiny_run):
    """Copies of the session's tiny EMOTIC layout and tiny run (so the rows cannot touch the originals), a user's
    files and broken copies of the data."""
    root = tmp_path_factory.mktemp("emotic_mistakes")
    shutil.copytree(tiny_dataset[0], root / "EMOTIC")
    shutil.copytree(tiny_run[0], root / "run")
    write_user_files(root, {"bad_bool.yaml": "mask_body: perhaps\n", "bad_type.yaml": "epochs: many\n"})

    # images unpacked one folder too high: <data_dir>/<dataset>/images instead of <data_dir>/emotic/<dataset>/...
    too_high = root / "too_high"
    shutil.copytree(root / "EMOTIC" / "Annotations", too_high / "Annotations")
    for dataset in (root / "EMOTIC" / "emotic").iterdir():
        shutil.copytree(dataset, too_high / dataset.name)
    (root / "bad_inference.txt").write_text("photo.jpg 1 2 three 4\n")
    missing_npy = root / "missing_npy"
    shutil.copytree(root / "EMOTIC" / "emotic_pre", missing_npy)
    (missing_npy / "val_body_arr.npy").unlink()
    return root


# (module, arguments with {root} placeholders, text the error line must contain)
CASES = [
    # options
    ("emotic_context.main", ["--lr_step", "0"], "--lr_step"),
    ("emotic_context.main", ["--batch_size", "-1"], "--batch_size"),
    ("emotic_context.main", ["--learning_rate", "nan"], "--learning_rate"),
    ("emotic_context.main", ["--epochs", "0"], "--epochs"),
    ("emotic_context.main", ["--data_path", "{root}/EMOTIC/emotic_pre", "--config", "{root}/bad_bool.yaml"],
     "mask_body"),
    ("emotic_context.main", ["--data_path", "{root}/EMOTIC/emotic_pre", "--config", "{root}/bad_type.yaml"], "epochs"),
    ("emotic_context.main", ["--data_path", "{root}/EMOTIC/emotic_pre", *TRAIN, "--experiment_path",
                             "{root}/a_file/run"], "a_file"),
    ("emotic_context.main", ["--data_path", "{root}/EMOTIC/emotic_pre", *TRAIN, "--experiment_path", "{root}/run"],
     "run"),  # an existing run is never reused silently
    ("emotic_context.main", ["--mode", "test", "--data_path", "{root}/EMOTIC/emotic_pre", "--experiment_path",
                             "{root}/run", "--checkpoint", "{root}/list.pt"], "list.pt"),
    ("emotic_context.main", ["--mode", "test", "--data_path", "{root}/EMOTIC/emotic_pre", "--experiment_path",
                             "{root}/no_run"], "no_run"),
    ("emotic_context.main", ["--mode", "inference", "--experiment_path", "{root}/run", "--inference_file",
                             "{root}/missing.txt"], "missing.txt"),
    ("emotic_context.explain", ["--experiment_path", "{root}/run", "--image", "{root}/missing.jpg", "--bbox", "1", "1",
                                "20", "20", "--category", "Happiness"], "missing.jpg"),
    ("emotic_context.explain", ["--experiment_path", "{root}/run", "--image", "{root}/a_file", "--bbox", "1", "1",
                                "20", "20", "--category", "Joyfulness"], "Joyfulness"),
    ("emotic_context.explain", ["--experiment_path", "{root}/no_run", "--image", "{root}/a_file", "--bbox", "1", "1",
                                "20", "20", "--category", "Happiness"], "no_run"),
    ("emotic_context.explain", ["--experiment_path", "{root}/run", "--image", "{root}/a_file", "--bbox", "1", "1",
                                "20", "20", "--category", "Happiness", "--out", "{root}/a_file/cams"], "a_file"),
    ("emotic_context.mat2py", ["--data_dir", "{root}/EMOTIC", "--save_dir", "{root}/a_file/cache"], "a_file"),
    ("emotic_context.demo_data", ["--out", "{root}/user_data"], "user_data"),
    ("emotic_context.demo_data", ["--out", "{root}/a_file"], "a_file"),
    ("emotic_context.bench_preprocess", ["--out", "{root}/user_data"], "user_data"),
    ("emotic_context.convert_port", ["{root}/user_data", "{root}/out.pt"], "user_data"),
    ("emotic_context.convert_port", ["{root}/user_data", "{root}/a_file"], "a_file"),
    ("emotic_context.mat2py", ["--data_dir", "{root}/EMOTIC", "--save_dir", "{root}/user_data", "--generate_npy"],
     "user_data"),
    ("emotic_context.app", ["--checkpoint", "{root}/missing.pt"], "missing.pt"),
    # broken data
    ("emotic_context.mat2py", ["--data_dir", "{root}/no_such_folder"], "no_such_folder"),
    ("emotic_context.mat2py", ["--data_dir", "{root}/too_high", "--generate_npy"], "emodb_small/images"),
    ("emotic_context.main", ["--data_path", "{root}/no_such_folder", *TRAIN, "--experiment_path", "{root}/new"],
     "no_such_folder"),
    ("emotic_context.main", ["--data_path", "{root}/missing_npy", *TRAIN, "--experiment_path", "{root}/new"],
     "val_body_arr.npy"),
    ("emotic_context.main", ["--mode", "inference", "--experiment_path", "{root}/run", "--inference_file",
                             "{root}/bad_inference.txt", "--on_bad_row", "fail", "--inference_output",
                             "{root}/predictions.csv"], "bad_inference.txt"),
]


@pytest.mark.filterwarnings("ignore:.*found in sys.modules:RuntimeWarning")  # runpy re-running a module
@pytest.mark.parametrize("module,argv,expected", CASES, ids=case_ids(CASES))
def test_mistake_is_one_line_and_touches_nothing(module, argv, expected, workspace, capsys, monkeypatch):
    argv = [a.format(root=workspace) for a in argv]
    assert_one_line_error(module, argv, expected, workspace, capsys, monkeypatch)
