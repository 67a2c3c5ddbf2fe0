"""Run folders, config files, summary CSV, results.json validation and the report."""

import argparse
import json

import numpy as np
import pytest
import yaml

from shared_utils import report
from shared_utils.files import read_image, require_path
from shared_utils.results import REQUIRED_FIELDS, load_results, write_results
from shared_utils.runs import (
    LAST_CHECKPOINT,
    BestTracker,
    SummaryCSV,
    parse_args_with_config,
    prepare_run_dir,
    save_args,
)


def _parser():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--arch", default="cnn")
    return parser


def test_config_file_replaces_defaults_and_command_line_wins(tmp_path):
    config = tmp_path / "recipe.yaml"
    config.write_text("lr: 0.01\nepochs: 3\n")
    args = parse_args_with_config(_parser(), ["--config", str(config), "--epochs", "5"])
    assert (args.lr, args.epochs, args.arch) == (0.01, 5, "cnn")
    json_config = tmp_path / "recipe.json"
    json_config.write_text(json.dumps({"arch": "se_resnet18"}))
    assert parse_args_with_config(_parser(), ["--config", str(json_config)]).arch == "se_resnet18"


def test_config_file_errors_name_the_file(tmp_path):
    typo = tmp_path / "typo.yaml"
    typo.write_text("learning_rat: 0.01\n")
    with pytest.raises(SystemExit, match=r"typo\.yaml has unknown option\(s\): learning_rat"):
        parse_args_with_config(_parser(), ["--config", str(typo)])
    with pytest.raises(SystemExit, match=r"config file .*nope\.yaml does not exist"):
        parse_args_with_config(_parser(), ["--config", str(tmp_path / "nope.yaml")])
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(SystemExit, match=r"broken\.json is not valid json"):
        parse_args_with_config(_parser(), ["--config", str(broken)])


def test_run_folder_is_never_silently_reused(tmp_path):
    run = prepare_run_dir(tmp_path, "exp1")
    (run / "summary.csv").write_text("epoch\n1\n")
    with pytest.raises(SystemExit, match="already exists; pass --resume"):
        prepare_run_dir(tmp_path, "exp1")
    with pytest.raises(SystemExit, match=f"{LAST_CHECKPOINT} does not exist"):
        prepare_run_dir(tmp_path, "exp1", resume=True)
    (run / LAST_CHECKPOINT).write_bytes(b"x")
    assert prepare_run_dir(tmp_path, "exp1", resume=True) == run
    assert (run / "summary.csv").exists()
    again = prepare_run_dir(tmp_path, "exp1", overwrite=True)
    assert again == run and list(run.iterdir()) == []


def test_a_failed_start_does_not_block_the_corrected_command(tmp_path):
    """A start that stopped before training left only args.yaml and log.txt: the next start takes the folder over;
    one more file (a summary, a checkpoint, anything) and the folder is refused as before."""
    run = prepare_run_dir(tmp_path, "exp1")
    (run / "log.txt").write_text("a user's log\n")
    with pytest.raises(SystemExit, match="already exists"):  # no args.yaml of ours: not a failed start of ours
        prepare_run_dir(tmp_path, "exp1")
    save_args(run, argparse.Namespace(lr=-1))
    (run / "log.txt").write_text("error: ...\n")
    assert prepare_run_dir(tmp_path, "exp1") == run and list(run.iterdir()) == []
    (run / "log.txt").write_text("started\n")
    (run / "notes.md").write_text("a user's notes\n")
    with pytest.raises(SystemExit, match="already exists"):
        prepare_run_dir(tmp_path, "exp1")
    assert (run / "notes.md").read_text() == "a user's notes\n"


def test_save_args_writes_resolved_yaml(tmp_path):
    path = save_args(tmp_path, argparse.Namespace(lr=0.5, data=tmp_path / "d", sizes=(1, 2)))
    values = yaml.safe_load(path.read_text())
    assert values == {"lr": 0.5, "data": str(tmp_path / "d"), "sizes": [1, 2]}
    assert path.read_text().startswith("# command: ")


def test_summary_csv_appends_and_truncates_on_resume(tmp_path):
    summary = SummaryCSV(tmp_path / "summary.csv")
    for epoch in (1, 2, 3):
        summary.append({"epoch": epoch, "train_loss": 1.0 / epoch})
    summary.append({"epoch": 4, "train_loss": 0.2, "val_acc": 0.9})  # new column later
    reopened = SummaryCSV(tmp_path / "summary.csv")
    assert [r["epoch"] for r in reopened.rows] == ["1", "2", "3", "4"]
    assert reopened.rows[3]["val_acc"] == "0.9" and reopened.rows[0]["val_acc"] == ""
    reopened.truncate(2)
    assert (tmp_path / "summary.csv").read_text().splitlines() == [
        "epoch,train_loss,val_acc", "1,1,", "2,0.5,"]


def test_best_tracker_and_early_stopping():
    tracker = BestTracker("val_acc", "max", patience=2)
    assert tracker.update(0.5, 1) and not tracker.update(0.4, 2) and not tracker.should_stop
    assert not tracker.update(0.5, 3) and tracker.should_stop
    restored = BestTracker("val_acc", "max", patience=2)
    restored.load_state_dict(tracker.state_dict())
    assert (restored.best, restored.best_epoch, restored.should_stop) == (0.5, 1, True)


def _result(tmp_path, name, **overrides):
    fields = dict(package="fer_seresnet", experiment="se_resnet18", dataset="FER2013", data="real",
                  split="PublicTest", metrics={"accuracy": 0.70, "macro_f1": 0.66, "recall": {"happy": 0.9}},
                  baseline={"accuracy": 0.25}, device="cpu", wall_seconds=12.5, command="python -m x")
    fields.update(overrides)
    return write_results(tmp_path / name, **fields)


def test_results_json_round_trip_and_validation(tmp_path):
    path = _result(tmp_path, "a", metrics={"accuracy": 0.7, "auc": float("nan")})
    record = load_results(path)
    assert set(REQUIRED_FIELDS) <= set(record) and record["metrics"]["auc"] is None
    del record["baseline"], record["device"]
    path.write_text(json.dumps(record))
    with pytest.raises(SystemExit, match=r"results\.json: missing field\(s\): baseline, device"):
        load_results(path)
    path.write_text("{")
    with pytest.raises(SystemExit, match=r"results\.json: not valid JSON"):
        load_results(path)


def test_report_pairs_paper_and_ours(tmp_path):
    runs = tmp_path / "runs"
    _result(runs / "fer_seresnet", "se_resnet18")
    _result(runs / "fer_seresnet", "demo_cnn", experiment="cnn", data="demo", metrics={"accuracy": 0.9})
    _result(runs / "fer_seresnet", "extra", experiment="se_cnn", data="demo",
            metrics={"accuracy": 0.8, "recall/angry": 0.5})
    pkg = tmp_path / "pkgs" / "fer_seresnet"
    pkg.mkdir(parents=True)
    (pkg / "paper_results.json").write_text(json.dumps({"package": "fer_seresnet", "paper": "Huang et al. 2023",
        "entries": [
            {"experiment": "se_resnet18", "metric": "accuracy", "value": 0.75, "source": "Table 1"},
            {"experiment": "cnn", "metric": "accuracy", "value": 0.6, "source": "Table 1"},
            {"experiment": "cnn", "metric": "accuracy", "value": 0.6, "source": "Table 1 again"},  # listed once
            {"experiment": "vgg", "metric": "accuracy", "value": 0.7328, "source": "peer"},
            {"experiment": "resmasking", "metric": "accuracy", "value": 0.7414, "source": "peer 2",
             "ours_note": "no counterpart"}]}))
    # a real run kept in the repository is shown without being re-run
    _result(pkg / "results", "kept_vgg", experiment="vgg", metrics={"accuracy": 0.71})
    # a kept copy of a run that is also still in runs/ is one run, listed once
    original = runs / "fer_seresnet" / "extra" / "results.json"
    (pkg / "results" / "extra").mkdir()
    (pkg / "results" / "extra" / "results.json").write_bytes(original.read_bytes())
    text = report.build_report(runs, tmp_path / "pkgs")
    lines = text.splitlines()
    assert lines.count("| se_resnet18 | accuracy | 0.7500 | 0.7000 |  | Table 1 |") == 1
    assert [line for line in lines if line.startswith("| cnn |")] == [
        "| cnn | accuracy | 0.6000 | not run | **0.9000** (demo) | Table 1 |"]
    assert "| vgg | accuracy | 0.7328 | 0.7100 |  | peer |" in lines
    assert "| resmasking | accuracy | 0.7414 | no counterpart |  | peer 2 |" in lines
    others = lines[lines.index("Runs with no published counterpart:") + 2]
    assert others == "- `se_cnn` (**demo** data): accuracy 0.8000" and "recall/angry" not in text
    assert sum(line.startswith("- `se_cnn` (**demo** data)") for line in lines) == 1
    out = report.main([str(runs), "--package-root", str(tmp_path / "pkgs")])
    assert out.read_text() == text


def test_report_rejects_bad_results_file(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "results.json").write_text(json.dumps({"package": "p"}))
    with pytest.raises(SystemExit, match=r"x/results\.json: missing field\(s\): experiment"):
        report.build_report(tmp_path)


def test_missing_dataset_root_and_unreadable_image_are_one_line_errors(tmp_path):
    with pytest.raises(SystemExit) as info:
        require_path(tmp_path / "EmotionROI", "EmotionROI dataset", "download it from the authors' page", kind="dir")
    message = str(info.value)
    assert "\n" not in message and "EmotionROI" in message and "no such folder" in message and "download" in message
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    with pytest.raises(SystemExit, match=r"cannot read image .*broken\.jpg"):
        read_image(broken)


def test_config_values_go_through_the_command_line_types(tmp_path):
    """'false' / 'no' as strings are false, numbers are typed, choices are checked; misfits are one line."""
    def parser():
        p = argparse.ArgumentParser()
        p.add_argument("--nesterov", action="store_true")
        p.add_argument("--ten-crop", action=argparse.BooleanOptionalAction, default=True)
        p.add_argument("--lr", type=float, default=0.1)
        p.add_argument("--epochs", type=int, default=3)
        p.add_argument("--steps", type=int, nargs="+", default=[1])
        p.add_argument("--opt", choices=["sgd", "adamw"], default="sgd")
        return p

    good = tmp_path / "good.json"
    good.write_text('{"nesterov": "false", "ten_crop": "no", "lr": "0.01", "epochs": 4.0, "steps": ["20", 40],'
                    ' "opt": "adamw"}')
    args = parse_args_with_config(parser(), ["--config", str(good)])
    assert args.nesterov is False and args.ten_crop is False and args.lr == 0.01 and args.epochs == 4
    assert args.steps == [20, 40] and args.opt == "adamw"
    assert parse_args_with_config(parser(), ["--config", str(good), "--nesterov"]).nesterov is True
    for body, message in [('{"nesterov": "maybe"}', "nesterov: 'maybe' is not true or false"),
                          ('{"epochs": 2.5}', "epochs: 2.5 does not fit"),
                          ('{"lr": "fast"}', "lr: 'fast' does not fit"),
                          ('{"opt": "adam"}', "opt: 'adam' is not one of sgd, adamw"),
                          ('{"lr": [0.1, 0.2]}', "lr: expected one value")]:
        bad = tmp_path / "bad.json"
        bad.write_text(body)
        with pytest.raises(SystemExit, match=f"error: config file {bad}: {message}"):
            parse_args_with_config(parser(), ["--config", str(bad)])


def test_16_bit_images_are_scaled_not_clipped(tmp_path):
    """PIL's convert clips a 16-bit PNG to all-white; read_image keeps its picture (the high byte)."""
    from PIL import Image

    ramp = (np.arange(64, dtype=np.uint32).reshape(8, 8) * 1024).astype(np.uint16)  # 0 .. 64512
    path = tmp_path / "map16.png"
    Image.fromarray(ramp).save(path)
    with Image.open(path) as image:
        assert image.mode.startswith("I") and (np.asarray(image.convert("L")) == 255).mean() > 0.9  # clipped
    grey = read_image(path, "L")
    assert grey.dtype == np.uint8 and np.array_equal(grey, (ramp >> 8).astype(np.uint8))
    assert np.array_equal(read_image(path, "RGB")[..., 1], grey)


def test_truncated_jpeg_is_refused_naming_the_file(tmp_path):
    """libjpeg (through OpenCV) would fill the missing rows with grey and only warn; PIL raises. Both name the file."""
    from PIL import Image

    whole = tmp_path / "whole.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(whole)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole.read_bytes()[: len(whole.read_bytes()) // 2])
    for decoder in ("opencv", "pil"):
        assert read_image(whole, "RGB", decoder).shape == (64, 64, 3)
        with pytest.raises(SystemExit, match=f"cannot read image {cut}"):
            read_image(cut, "RGB", decoder)


def test_config_base_files_state_only_what_differs(tmp_path):
    from shared_utils.runs import load_config_file

    (tmp_path / "base.yaml").write_text("lr: 0.1\nepochs: 80\narch: se_resnet18\n")
    (tmp_path / "child.yaml").write_text("_base_: base.yaml\narch: cnn\n")
    assert load_config_file(tmp_path / "child.yaml") == {"lr": 0.1, "epochs": 80, "arch": "cnn"}
    (tmp_path / "loop.yaml").write_text("_base_: loop.yaml\nlr: 1\n")
    with pytest.raises(SystemExit, match="_base_ files include each other"):
        load_config_file(tmp_path / "loop.yaml")
    (tmp_path / "orphan.yaml").write_text("_base_: missing.yaml\n")
    with pytest.raises(SystemExit, match="missing.yaml does not exist"):
        load_config_file(tmp_path / "orphan.yaml")
