"""End to end on the tiny demo dataset: training, exact resume, results.json, EmoFCNEL's label
analysis, the map classifier, baselines and inference."""

import csv
import json

import numpy as np
import pytest
import torch
from PIL import Image

from emotionroi_ex import (
    EMOTIONS,
    evaluate_baselines,
    infer,
    options,
    train_EmoFCNEL,
    train_FCNEL,
    train_RIO_clf,
    train_ROI_clf,
)
from shared_utils.results import load_results
from shared_utils.runs import parse_args_with_config

TINY = ["--backbone", "resnet50", "--arch", "fcn_resnet50", "--input-size", "32", "-b", "4", "--opt", "adam",
        "--lr", "1e-3", "--loss", "mean", "--device", "cpu", "--deterministic"]


def _args(module, argv):
    return parse_args_with_config(module.get_args_parser(), argv)


@pytest.fixture(scope="module")
def fcnel_run(demo_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    run_dir = train_FCNEL.main(_args(train_FCNEL, ["--data-path", str(demo_root), "--output", str(out),
                                                   "--experiment", "full", "--epochs", "2", *TINY]))
    return out, run_dir


def test_fcnel_run_folder_and_results(fcnel_run, demo_root):
    _, run_dir = fcnel_run
    for name in ("args.yaml", "summary.csv", "checkpoint_last.pt", "checkpoint_best.pt", "fig6_grid.png",
                 "learning_curves.png", "per_image_metrics.csv", "log.txt"):
        assert (run_dir / name).is_file(), name
    record = load_results(run_dir / "results.json")
    assert record["data"] == "demo" and record["experiment"] == "full" and record["split"] == "test"
    m = record["metrics"]
    for key in ("mae", "precision", "recall", "f_measure", "cc", "kl", "sim", *(f"mae/{e}" for e in EMOTIONS)):
        assert m[key] is not None and np.isfinite(m[key]), key
    assert 0 <= m["mae"] <= 1
    assert 0 <= record["baseline"]["mae"] <= 1 and record["baseline"]["mae"] != m["mae"]
    rows = list(csv.DictReader(open(run_dir / "per_image_metrics.csv")))
    assert len(rows) == 12 and np.mean([float(r["mae"]) for r in rows]) == pytest.approx(m["mae"], abs=1e-5)
    summary = list(csv.DictReader(open(run_dir / "summary.csv")))
    assert [int(r["epoch"]) for r in summary] == [1, 2] and "val_mae" in summary[0]
    grid = record["extra"]["fig6_grid_mae"]
    assert set(grid) == {"spectral_residual", "center_bias", "objectness", "mean_map", "FCNEL"}
    # the grid's images are the first test image of each emotion, scored like the full split
    assert [f.split("/")[0] for f in record["extra"]["fig6_grid_images"]] == list(EMOTIONS)
    by_file = {r["file"]: float(r["mae"]) for r in rows}
    for file, mae in zip(record["extra"]["fig6_grid_images"], grid["FCNEL"]):
        assert mae == pytest.approx(by_file[file], abs=1e-4)


def test_resume_continues_exactly(fcnel_run, demo_root):
    out, full_dir = fcnel_run
    common = ["--data-path", str(demo_root), "--output", str(out), "--experiment", "split", "--no-baselines-grid",
              *TINY]
    train_FCNEL.main(_args(train_FCNEL, [*common, "--epochs", "1"]))
    with pytest.raises(SystemExit, match="already exists"):
        train_FCNEL.main(_args(train_FCNEL, [*common, "--epochs", "2"]))
    resumed_dir = train_FCNEL.main(_args(train_FCNEL, [*common, "--epochs", "2", "--resume"]))
    full = torch.load(full_dir / "checkpoint_last.pt", weights_only=True)["model"]
    resumed = torch.load(resumed_dir / "checkpoint_last.pt", weights_only=True)["model"]
    for key in full:
        assert torch.equal(full[key], resumed[key]), key
    a = json.loads((full_dir / "results.json").read_text())["metrics"]["mae"]
    b = json.loads((resumed_dir / "results.json").read_text())["metrics"]["mae"]
    assert a == pytest.approx(b, abs=1e-9)


def _infer(run_dir, *argv, conditioned=False):
    args = options.infer_parser(conditioned=conditioned).parse_args(
        ["--weights", str(run_dir / "checkpoint_last.pt"), *argv])
    return infer.main(args, conditioned=conditioned)


def test_infer_writes_map_and_overlay_per_image(fcnel_run, demo_root, tmp_path):
    _, run_dir = fcnel_run
    listing = tmp_path / "list.txt"  # relative entries keep their relative path in the output names
    listing.write_text("images/joy/1.jpg\nimages/fear/1.jpg\n")
    (tmp_path / "images").symlink_to(demo_root / "images")
    written = _infer(run_dir, "--input", str(listing), "--output", str(tmp_path / "o"))
    assert sorted(p.relative_to(tmp_path / "o").as_posix() for p in written) == [
        "images/fear/1_map.png", "images/fear/1_overlay.jpg", "images/joy/1_map.png", "images/joy/1_overlay.jpg"]
    with Image.open(demo_root / "images" / "joy" / "1.jpg") as img, \
            Image.open(tmp_path / "o" / "images" / "joy" / "1_map.png") as m:
        assert m.size == img.size and m.mode == "L"
    # a folder, recursively: anger/1.jpg and joy/1.jpg do not overwrite each other
    written = _infer(run_dir, "--input", str(demo_root / "images"), "--output", str(tmp_path / "f"))
    assert len(written) == 2 * 30 and len(set(written)) == 60
    assert (tmp_path / "f" / "anger" / "1_map.png").is_file() and (tmp_path / "f" / "joy" / "1_map.png").is_file()
    # one image; the map is the network's output on the ground truth's scale (clamped, never stretched)
    single = _infer(run_dir, "--input", str(demo_root / "images" / "sadness" / "2.jpg"), "--output",
                    str(tmp_path / "one"))
    assert [p.name for p in single] == ["2_map.png", "2_overlay.jpg"]
    ours = np.asarray(Image.open(single[0]), np.float64) / 255
    scored = np.asarray(Image.open(tmp_path / "f" / "sadness" / "2_map.png"), np.float64) / 255
    assert np.array_equal(ours, scored) and ours.max() < 1.0  # a stretched map would reach 1


def test_infer_refuses_what_it_should(fcnel_run, demo_root, tmp_path):
    _, run_dir = fcnel_run
    out = tmp_path / "existing"
    out.mkdir()
    (out / "mine.txt").write_text("a user's file")
    with pytest.raises(SystemExit, match="existing already exists; choose another --output or pass --overwrite"):
        _infer(run_dir, "--input", str(demo_root / "images" / "joy" / "1.jpg"), "--output", str(out))
    _infer(run_dir, "--input", str(demo_root / "images" / "joy" / "1.jpg"), "--output", str(out), "--overwrite")
    assert (out / "mine.txt").read_text() == "a user's file" and (out / "1_map.png").is_file()
    listing = tmp_path / "list.txt"
    listing.write_text("does/not/exist.jpg\n")
    with pytest.raises(SystemExit, match="line 1: .*exist.jpg does not exist"):
        _infer(run_dir, "--input", str(listing), "--output", str(tmp_path / "x"))
    fake = tmp_path / "notes.jpg"
    fake.write_text("not an image")
    with pytest.raises(SystemExit, match=r"notes\.jpg: not a readable image"):
        _infer(run_dir, "--input", str(fake), "--output", str(tmp_path / "x"))
    binary = tmp_path / "weights.bin"
    binary.write_bytes(bytes(range(256)))
    with pytest.raises(SystemExit, match=r"weights\.bin: neither an image .* nor a text file listing images"):
        _infer(run_dir, "--input", str(binary), "--output", str(tmp_path / "x"))
    assert not (tmp_path / "x").exists()  # nothing written for a refused input


def test_infer_keeps_inputs_that_share_a_name_apart(fcnel_run, demo_root, tmp_path):
    _, run_dir = fcnel_run
    photos = tmp_path / "photos"
    (photos / "a").mkdir(parents=True)
    (photos / "b").mkdir()
    with Image.open(demo_root / "images" / "joy" / "1.jpg") as img:
        img.save(photos / "a" / "photo.jpg")
        img.save(photos / "a" / "photo.png")
        img.save(photos / "b" / "photo.jpg")
    written = _infer(run_dir, "--input", str(photos), "--output", str(tmp_path / "o"))
    names = sorted(p.relative_to(tmp_path / "o").as_posix() for p in written if p.name.endswith("_map.png"))
    assert names == ["a/photo_jpg_map.png", "a/photo_png_map.png", "b/photo_map.png"]


def test_emofcnel_label_sensitivity(demo_root, tmp_path):
    run_dir = train_EmoFCNEL.main(_args(train_EmoFCNEL, [
        "--data-path", str(demo_root), "--output", str(tmp_path), "--epochs", "1", "--embed-dim", "4",
        "--sensitivity-images", "3", "--no-baselines-grid", *TINY]))
    rows = list(csv.reader(open(run_dir / "label_sensitivity.csv")))
    matrix = np.array([[float(v) for v in row[1:]] for row in rows[1:]])
    assert matrix.shape == (6, 6) and np.allclose(np.diag(matrix), 0) and np.allclose(matrix, matrix.T)
    assert matrix[~np.eye(6, dtype=bool)].min() > 0  # the label does reach the map
    metrics = load_results(run_dir / "results.json")["metrics"]
    assert metrics["label_sensitivity_mean"] == pytest.approx(matrix[~np.eye(6, dtype=bool)].mean(), abs=1e-5)
    assert (run_dir / "label_sensitivity.png").is_file()
    written = _infer(run_dir, "--input", str(demo_root / "images" / "anger"), "--output", str(tmp_path / "maps"),
                     "--label", "all", conditioned=True)
    assert len(written) == 2 * 5 * 6 and (tmp_path / "maps" / "1_surprise_map.png").is_file()


def test_roi_classifier_and_misspelt_alias(demo_root, tmp_path):
    assert train_RIO_clf.main is train_ROI_clf.main
    run_dir = train_RIO_clf.main(_args(train_RIO_clf, [
        "--data-path", str(demo_root), "--output", str(tmp_path), "--epochs", "2", "--backbone", "resnet18",
        "--input-size", "32", "-b", "8", "--opt", "adam", "--lr", "1e-3", "--device", "cpu"]))
    record = load_results(run_dir / "results.json")
    assert record["metrics"]["chance_accuracy"] == pytest.approx(1 / 6)
    assert 0 <= record["metrics"]["accuracy"] <= 1 and record["baseline"]["accuracy"] == pytest.approx(2 / 12)
    assert (run_dir / "confusion_matrix.png").is_file()


def test_baselines_script(demo_root, tmp_path):
    summaries = evaluate_baselines.main(_args(evaluate_baselines, [
        "--data-path", str(demo_root), "--output", str(tmp_path),
        "--baselines", "center_bias", "mean_map"]))
    record = load_results(tmp_path / "baseline_mean_map" / "results.json")
    assert record["metrics"]["mae"] == pytest.approx(record["baseline"]["mae"])  # the trivial map is its own reference
    assert summaries["center_bias"]["mae"] != summaries["mean_map"]["mae"]
    grid = load_results(tmp_path / "baseline_center_bias" / "results.json")["extra"]["fig6_grid_mae"]
    assert len(grid) == 6 and all(0 < v < 1 for v in grid)


def test_eval_only_rescores_the_same(fcnel_run, demo_root, monkeypatch):
    from emotionroi_ex import map_training

    out, run_dir = fcnel_run
    reads, read = [], map_training.load_model_weights
    monkeypatch.setattr(map_training, "load_model_weights", lambda model, path: reads.append(path) or read(model, path))
    again = train_FCNEL.main(_args(train_FCNEL, [
        "--data-path", str(demo_root), "--output", str(out), "--experiment", "rescored", "--eval-only",
        "--weights", str(run_dir / "checkpoint_last.pt"), "--no-baselines-grid", *TINY]))
    a = load_results(run_dir / "results.json")["metrics"]
    b = load_results(again / "results.json")["metrics"]
    assert reads == [str(run_dir / "checkpoint_last.pt")]  # read once: refused or accepted before any folder
    assert b["mae"] == pytest.approx(a["mae"], abs=1e-9) and b["f_measure"] == pytest.approx(a["f_measure"], abs=1e-9)
    # Scoring the run itself (even with --overwrite) leaves every file its training wrote; outputs in RUN/eval/
    written = {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()}
    inside = train_FCNEL.main(_args(train_FCNEL, [
        "--data-path", str(demo_root), "--output", str(out), "--experiment", run_dir.name, "--eval-only",
        "--weights", str(run_dir / "checkpoint_last.pt"), "--overwrite", "--no-baselines-grid", *TINY]))
    assert inside.parent == run_dir / "eval"
    assert {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()} == written
    c = load_results(inside / "results.json")["metrics"]
    assert c["mae"] == pytest.approx(a["mae"], abs=1e-9)
