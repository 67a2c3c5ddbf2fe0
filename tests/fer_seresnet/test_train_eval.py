"""Training, exact resume, evaluation (ten-crop, cross-dataset), visualisation and the benchmark on demo data."""

from __future__ import annotations

import argparse
import csv
import json

import cv2
import numpy as np
import pytest
import torch
from helpers.hooks import hook_count

from fer_seresnet import bench, evaluate, train, visualize
from shared_utils.runs import parse_args_with_config

FAST = ["--arch", "cnn", "--width", "8", "--batch-size", "16", "--opt", "adamw", "--lr", "0.003",
        "--weight-decay", "0.01", "--lr-warmup-epochs", "0", "--label-smoothing", "0", "--threads", "1"]


def _train(argv):
    return train.main(parse_args_with_config(train.get_args_parser(), argv))


@pytest.fixture(scope="module")
def trained(demo_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    result = _train(["--data-path", str(demo_root / "fer2013"), "--epochs", "6", "--output", str(out),
                     "--experiment", "cnn", *FAST])
    return out / "cnn", result


def test_training_learns_the_demo_faces(trained):
    run_dir, result = trained
    record = json.loads((run_dir / "results.json").read_text())
    assert record["package"] == "fer_seresnet" and record["data"] == "demo" and record["split"] == "private_test"
    # 7 balanced classes: the majority baseline is 1/7; drawn expressions are easy once learnt.
    assert record["baseline"]["accuracy"] == pytest.approx(1 / 7, abs=1e-6)
    assert record["metrics"]["accuracy"] > 0.8
    assert record["metrics"] == result
    assert record["extra"]["ten_crop"] is True and record["extra"]["val_split"] == "public_test"
    rows = list(csv.DictReader((run_dir / "summary.csv").open()))
    assert [int(r["epoch"]) for r in rows] == list(range(1, 7))
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"])
    for name in ("args.yaml", "log.txt", "checkpoint_best.pt", "checkpoint_last.pt", "learning_curves.png",
                 "confusion_matrix_private_test.png"):
        assert (run_dir / name).is_file(), name


def test_resume_continues_exactly(demo_root, tmp_path):
    common = ["--data-path", str(demo_root / "fer2013"), "--epochs", "2", "--output", str(tmp_path),
              "--no-eval-ten-crop", *FAST]
    _train([*common, "--experiment", "straight"])
    # Stop after the first epoch (as if interrupted there: no test score), then resume for the second.
    assert _train([*common, "--experiment", "resumed", "--stop-after-epoch", "1"]) is None
    assert len(list(csv.DictReader((tmp_path / "resumed" / "summary.csv").open()))) == 1
    assert not (tmp_path / "resumed" / "results.json").exists()
    saved = {name: (tmp_path / "resumed" / name).read_bytes() for name in ("args.yaml", "checkpoint_last.pt")}
    with pytest.raises(SystemExit, match=r"--resume with options that differ from .*args.yaml: lr: 0.003 -> 0.01; "
                                         r"width: 8 -> 16 \(resume with the saved options"):
        _train([*common, "--experiment", "resumed", "--resume", "--width", "16", "--lr", "0.01"])
    assert saved == {name: (tmp_path / "resumed" / name).read_bytes() for name in saved}  # nothing touched
    _train([*common, "--experiment", "resumed", "--resume"])
    a = torch.load(tmp_path / "straight" / "checkpoint_last.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "resumed" / "checkpoint_last.pt", weights_only=True)["model"]
    for key in a:
        assert torch.equal(a[key], b[key]), key
    rows_a = list(csv.DictReader((tmp_path / "straight" / "summary.csv").open()))
    rows_b = list(csv.DictReader((tmp_path / "resumed" / "summary.csv").open()))
    assert [r["train_loss"] for r in rows_a] == [r["train_loss"] for r in rows_b]
    with pytest.raises(SystemExit, match="already exists"):
        _train([*common, "--experiment", "straight"])


def test_evaluate_ten_crop_and_cross_dataset(trained, demo_root, tmp_path):
    run_dir, _ = trained
    checkpoint = str(run_dir / "checkpoint_best.pt")
    common = ["--checkpoint", checkpoint, "--output", str(tmp_path)]
    same = evaluate.main(parse_args_with_config(evaluate.get_args_parser(), [
        *common, "--data-path", str(demo_root / "fer2013"), "--split", "private_test", "--ten-crop",
        "--experiment", "same"]))
    reference = json.loads((run_dir / "results.json").read_text())["metrics"]
    assert same["accuracy"] == pytest.approx(reference["accuracy"])
    cross = evaluate.main(parse_args_with_config(evaluate.get_args_parser(), [
        *common, "--cross-dataset", "rafdb", "--data-path", str(demo_root / "rafdb" / "basic"), "--split", "test",
        "--experiment", "cross"]))
    record = json.loads((tmp_path / "cross" / "results.json").read_text())
    assert record["dataset"] == "rafdb" and record["extra"]["trained_on"] == "fer2013"
    assert record["extra"]["num_samples"] == 84
    # Same drawing style, different size/colour pipeline: far above chance only if the labels were remapped right.
    assert cross["accuracy"] > 0.6
    assert sum(map(sum, record["extra"]["confusion_matrix"])) == 84


def test_bad_inputs_are_one_line_errors(tmp_path, trained):
    with pytest.raises(SystemExit, match=f"error: {tmp_path / 'missing'}: no such file or folder"):
        _train(["--data-path", str(tmp_path / "missing"), "--output", str(tmp_path), *FAST])
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    with pytest.raises(SystemExit, match=f"cannot read checkpoint {bad}"):
        evaluate.main(parse_args_with_config(evaluate.get_args_parser(), [
            "--checkpoint", str(bad), "--data-path", str(tmp_path), "--output", str(tmp_path)]))


def test_visualize_writes_figures(trained, demo_root, tmp_path):
    run_dir, _ = trained
    args = visualize.get_args_parser().parse_args([
        "--checkpoint", str(run_dir / "checkpoint_best.pt"), "--data-path", str(demo_root / "fer2013"),
        "--indices", "0", "5", "9", "--out", str(tmp_path / "fig")])
    summary = visualize.main(args)
    assert summary["indices"] == [0, 5, 9] and len(summary["predicted"]) == 3
    assert sum(summary["region_shares"].values()) == pytest.approx(1.0)
    assert sum(summary["untrained_region_shares"].values()) == pytest.approx(1.0)
    assert summary["untrained_region_shares"] != summary["region_shares"]
    for name in ("feature_maps_0.png", "feature_maps_2.png", "gradcam_grid.png", "gradcam_mean.png"):
        assert (tmp_path / "fig" / name).stat().st_size > 1000
    with pytest.raises(SystemExit, match="already exists and is not empty"):
        visualize.main(args)
    for bad, message in [({"stage": 4}, "--stage 4 is out of range: the model has 4 stages"),
                         ({"per_class": 0, "indices": None}, "--per-class and --channels must be at least 1")]:
        with pytest.raises(SystemExit, match=message):
            visualize.main(argparse.Namespace(**{**vars(args), **bad}))
    args.overwrite = True
    assert visualize.main(args)["indices"] == [0, 5, 9]


def test_gradcam_hooks_released(trained):
    run_dir, _ = trained
    from fer_seresnet.scoring import model_from_checkpoint
    from shared_utils.gradcam import CamExplainer
    from shared_utils.runtime import Runtime

    model, _, _ = model_from_checkpoint(run_dir / "checkpoint_best.pt", Runtime.from_args("cpu", False))
    with CamExplainer(model, [model.stages[-1]]) as explainer:
        maps = explainer(torch.randn(2, 1, 44, 44), 3)
    assert maps.shape == (2, 44, 44) and hook_count(model) == 0


def test_bench_times_loader_pipeline_and_each_setting_in_its_own_process():
    result = bench.main(["--arch", "cnn", "--width", "8", "--batch-size", "16", "--steps", "1", "--rounds", "1",
                         "--threads", "1", "--sections", "loader", "pipeline", "step", "--settings", "fp32",
                         "bf16+channels_last+glibc_keep"])
    assert result["loader"]["count"] == 416 and result["loader"]["rate"] > 0  # 26 full batches of the 420 faces
    pipeline = result["pipeline"]
    assert pipeline["ratio"] == pytest.approx(pipeline["real_images_per_s"] / pipeline["premade_images_per_s"])
    fp32, fast = result["step"]["fp32"][0], result["step"]["bf16+channels_last+glibc_keep"][0]
    assert "amp=off" in fp32["runtime"] and "channels_last" not in fp32["runtime"]
    assert "amp=bfloat16" in fast["runtime"] and "channels_last" in fast["runtime"]
    assert fp32["seconds_per_step"] > 0 and fast["peak_rss_mib"] > 100
    with pytest.raises(SystemExit, match="420 training images is fewer than one batch of 1000"):
        bench.main(["--arch", "cnn", "--width", "8", "-b", "1000", "--threads", "1", "--sections", "loader"])
    with pytest.raises(SystemExit, match="unknown fp64"):
        bench.main(["--arch", "cnn", "--width", "8", "--sections", "step", "--settings", "fp32", "fp64+jemalloc"])


def test_time_budget_anneals_and_stops(demo_root, tmp_path):
    """--time-budget-minutes: the run ends near the budget with the learning rate annealed to ~0."""
    _train(["--data-path", str(demo_root / "fer2013"), "--epochs", "200", "--time-budget-minutes", "0.06",
            "--output", str(tmp_path), "--experiment", "budget", "--no-eval-ten-crop", *FAST])
    rows = list(csv.DictReader((tmp_path / "budget" / "summary.csv").open()))
    assert 1 <= len(rows) < 200
    assert float(rows[-1]["lr"]) < 0.1 * 0.003
    assert float(rows[-1]["elapsed_seconds"]) < 0.06 * 60 * 2.5


def test_ferplus_soft_targets_and_folder_cross_dataset(demo_root, tmp_path):
    result = _train(["--dataset", "ferplus", "--data-path", str(demo_root / "fer2013" / "fer2013.csv"),
                     "--ferplus-csv", str(demo_root / "ferplus" / "fer2013new.csv"), "--soft-targets", "--epochs", "4",
                     "--output", str(tmp_path), "--experiment", "ferplus", "--no-eval-ten-crop", *FAST])
    record = json.loads((tmp_path / "ferplus" / "results.json").read_text())
    assert record["dataset"] == "ferplus" and record["extra"]["load_stats"]["not_face"] == 17
    assert result["accuracy"] > 0.5
    # A generic <class>/ folder set (here the demo's test/ folder) as a cross-dataset test.
    cross = evaluate.main(parse_args_with_config(evaluate.get_args_parser(), [
        "--checkpoint", str(tmp_path / "ferplus" / "checkpoint_best.pt"), "--cross-dataset", "folder",
        "--data-path", str(demo_root / "fer2013" / "test"), "--output", str(tmp_path), "--experiment", "folder"]))
    assert json.loads((tmp_path / "folder" / "results.json").read_text())["extra"]["num_samples"] == 280
    assert cross["accuracy"] > 0.5


def test_ferplus_eight_classes(demo_root, tmp_path):
    """--ferplus-classes 8: contempt is an eighth class of the model, of the scores and of evaluation."""
    common = ["--data-path", str(demo_root / "fer2013" / "fer2013.csv"), "--ferplus-csv",
              str(demo_root / "ferplus" / "fer2013new.csv")]
    _train(["--dataset", "ferplus", *common, "--ferplus-classes", "8", "--epochs", "1", "--output", str(tmp_path),
            "--experiment", "eight", "--no-eval-ten-crop", *FAST])
    record = json.loads((tmp_path / "eight" / "results.json").read_text())
    assert "recall/contempt" in record["metrics"] and len(record["extra"]["confusion_matrix"]) == 8
    again = evaluate.main(parse_args_with_config(evaluate.get_args_parser(), [
        "--checkpoint", str(tmp_path / "eight" / "checkpoint_best.pt"), *common, "--output", str(tmp_path),
        "--experiment", "eight_eval"]))
    assert again["accuracy"] == pytest.approx(record["metrics"]["accuracy"])  # the same split, centre crop
    with pytest.raises(SystemExit, match="predicts 8 classes but ferplus has 7; pass --ferplus-classes 8"):
        evaluate.main(parse_args_with_config(evaluate.get_args_parser(), [
            "--checkpoint", str(tmp_path / "eight" / "checkpoint_best.pt"), *common, "--ferplus-classes", "7",
            "--output", str(tmp_path), "--experiment", "mismatch"]))


def test_skip_bad_rows_is_counted_in_the_log(demo_root, tmp_path):
    lines = (demo_root / "fer2013" / "fer2013.csv").read_text().splitlines()
    lines[5] = "3,1 2 3,Training"  # wrong pixel count on line 6
    bad_csv = tmp_path / "fer2013.csv"
    bad_csv.write_text("\n".join(lines) + "\n")
    common = ["--data-path", str(bad_csv), "--epochs", "1", "--output", str(tmp_path), "--no-eval-ten-crop", *FAST]
    with pytest.raises(SystemExit, match=f"error: {bad_csv}: line 6: expected 2304 pixel values, got 3"):
        _train([*common, "--experiment", "strict"])
    assert not (tmp_path / "strict").exists()  # nothing half-written left behind
    _train([*common, "--experiment", "lenient", "--skip-bad-rows"])
    log_text = (tmp_path / "lenient" / "log.txt").read_text()
    assert "skipped 1 malformed CSV row(s)" in log_text
    assert json.loads((tmp_path / "lenient" / "results.json").read_text())["extra"]["load_stats"]["bad_rows"] == 1


def test_evaluate_never_falls_back_to_the_training_split(trained, demo_root, tmp_path):
    run_dir, _ = trained
    lines = (demo_root / "fer2013" / "fer2013.csv").read_text().splitlines()
    train_only = tmp_path / "fer2013.csv"
    train_only.write_text("\n".join([lines[0], *[line for line in lines[1:] if line.endswith(",Training")]]) + "\n")
    common = ["--checkpoint", str(run_dir / "checkpoint_best.pt"), "--data-path", str(train_only), "--output",
              str(tmp_path / "runs")]
    with pytest.raises(SystemExit, match=r"no test split \(has train\); pass --split train"):
        evaluate.main(parse_args_with_config(evaluate.get_args_parser(), [*common, "--experiment", "silent"]))
    assert not (tmp_path / "runs" / "silent").exists()
    on_purpose = evaluate.main(parse_args_with_config(evaluate.get_args_parser(), [
        *common, "--split", "train", "--experiment", "train_scored"]))
    assert json.loads((tmp_path / "runs" / "train_scored" / "results.json").read_text())["split"] == "train"
    assert on_purpose["accuracy"] > 0.5


# --------------------------------------------------------------------------- predict on your own photos
def _predict(argv, capsys):
    from fer_seresnet import predict

    code = predict.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_predict_real_photos_every_face(trained, shared, tmp_path, capsys):
    run_dir, _ = trained
    single, group = shared("data/samples/single_face.jpg"), shared("data/samples/multi_face.jpg")
    code, out, err = _predict([str(single), str(group), "--checkpoint", str(run_dir / "checkpoint_best.pt"),
                               "--json", "--out", str(tmp_path / "pred"), "--cam"], capsys)
    assert code == 0 and err == ""
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["path"] for r in records] == [str(single), str(group)]
    assert len(records[0]["faces"]) == 1 and len(records[1]["faces"]) >= 3  # a group photo: several faces found
    for face in records[0]["faces"] + records[1]["faces"]:
        x1, y1, x2, y2 = face["box"]
        assert x2 - x1 >= 24 and y2 - y1 >= 24
        assert sum(face["probs"].values()) == pytest.approx(1.0, abs=1e-3)
        assert face["label"] == max(face["probs"], key=face["probs"].get)
    assert sorted(p.name for p in (tmp_path / "pred").iterdir()) == ["multi_face_pred.jpg", "single_face_pred.jpg"]


def test_predict_video_over_time(trained, shared, tmp_path, capsys):
    run_dir, _ = trained
    clip = shared("data/samples/single_face.mp4")
    code, out, _ = _predict([str(clip), "--every", "20", "--checkpoint", str(run_dir / "checkpoint_best.pt"),
                             "--json", "--out", str(tmp_path / "pred")], capsys)
    record = json.loads(out)
    assert code == 0 and [f["frame"] for f in record["frames"]] == [0, 20, 40, 60]  # 72 frames
    assert all(f["faces"] for f in record["frames"])
    times = [f["time"] for f in record["frames"]]
    assert times == sorted(times) and times[0] == 0.0
    assert (tmp_path / "pred" / "single_face_emotions.png").stat().st_size > 1000


def test_predict_classifies_the_detected_box(trained, demo_root, monkeypatch):
    """Without real photos: exactly the square 1.2 times the box the (stubbed) detector reports, about its centre,
    is cut out and classified."""
    from fer_seresnet.dataset import load_fer2013
    from fer_seresnet.faces import FacePredictor

    run_dir, _ = trained
    predictor = FacePredictor(run_dir / "checkpoint_best.pt", "cpu", face_scale=1.2)
    face = cv2.resize(load_fer2013(demo_root / "fer2013").splits["private_test"].images[0].numpy(), (60, 60))
    canvas = np.full((200, 300, 3), 255, np.uint8)
    canvas[40:100, 100:160] = face[..., None]  # the 60 px face image; the box is its central 50 px
    monkeypatch.setattr(predictor, "detect", lambda rgb: [(105, 45, 155, 95)])
    [result] = predictor.faces(canvas)
    with torch.no_grad():
        cut_out = torch.from_numpy(cv2.resize(face, (48, 48), interpolation=cv2.INTER_AREA))
        expected = predictor.model(predictor.preset(cut_out[None])).softmax(1)[0]
    assert result["box"] == [105, 45, 155, 95]
    assert list(result["probs"].values()) == pytest.approx(expected.tolist(), abs=1e-4)
    assert result["label"] == predictor.class_names[int(expected.argmax())]


def test_predict_no_face_and_bad_inputs(trained, tmp_path, capsys):
    run_dir, _ = trained
    blank = tmp_path / "wall.png"
    cv2.imwrite(str(blank), np.full((120, 160, 3), 200, np.uint8))
    code, out, err = _predict([str(blank), "--checkpoint", str(run_dir / "checkpoint_best.pt"),
                               "--out", str(tmp_path / "pred")], capsys)
    assert code == 1 and out == "" and err.strip() == f"{blank}: no face found"
    assert not (tmp_path / "pred").exists()
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(SystemExit, match="not an image or video"):
        _predict([str(tmp_path / "notes.txt"), "--checkpoint", str(run_dir / "checkpoint_best.pt")], capsys)
    (tmp_path / "taken").mkdir()
    with pytest.raises(SystemExit, match="already exists"):
        _predict([str(blank), "--out", str(tmp_path / "taken")], capsys)
    with pytest.raises(SystemExit, match="does not exist"):
        _predict([str(blank), "--checkpoint", str(tmp_path / "none.pt")], capsys)


def test_export_ships_real_runs_only(trained, tmp_path):
    """fp16 weights that load like any checkpoint, a manifest whose sha256 is the file's; demo runs refused."""
    import hashlib
    import shutil

    from fer_seresnet import export_model
    from fer_seresnet.scoring import model_from_checkpoint
    from shared_utils.runtime import Runtime

    run_dir, _ = trained
    with pytest.raises(SystemExit, match="trained on demo data; only real runs are shipped"):
        export_model.main([str(run_dir), "--out", str(tmp_path / "models" / "m.pt")])
    assert not (tmp_path / "models").exists()
    real = tmp_path / "run"
    shutil.copytree(run_dir, real)
    record = json.loads((real / "results.json").read_text())
    (real / "results.json").write_text(json.dumps({**record, "data": "real"}))  # stands in for a real run
    out = tmp_path / "models" / "m.pt"
    entry = export_model.main([str(real), "--out", str(out)])
    manifest = json.loads((tmp_path / "models" / "MANIFEST.json").read_text())
    assert manifest["m.pt"]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest() == entry["sha256"]
    assert entry["test_accuracy_ten_crop"] == record["metrics"]["accuracy"] and entry["command"] == record["command"]
    assert out.stat().st_size < 0.6 * (run_dir / "checkpoint_best.pt").stat().st_size
    rt = Runtime.from_args("cpu", False)
    full = model_from_checkpoint(run_dir / "checkpoint_best.pt", rt)[0].eval()
    half = model_from_checkpoint(out, rt)[0].eval()
    x = torch.randn(4, 1, 44, 44)
    with torch.no_grad():
        assert torch.allclose(full(x).softmax(1), half(x).softmax(1), atol=2e-3)
    with pytest.raises(SystemExit, match="already exists"):
        export_model.main([str(real), "--out", str(out)])


def test_early_learning_shows_zero_init_residual_blocks_still_closed(demo_root, capsys):
    """The diagnostic behind the README's "why the SE-ResNet starts slower": on the same batches, the zero-init
    SE-ResNet's residual gammas stay near 0 while a standard-init one keeps them near 1."""
    from fer_seresnet import early_learning

    rows = early_learning.main(["--data-path", str(demo_root / "fer2013"), "--steps", "50", "-b", "8", "--width", "4",
                                "--threads", "1", "--holdout", "60", "se_resnet18:zero:sgd:0.05",
                                "se_resnet18:std:sgd:0.05"])
    zero, standard = rows
    assert zero["residual_gamma"] < 0.1 and standard["residual_gamma"] > 0.8
    assert "se_resnet18:zero:sgd:0.05" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="variant 'resnet:std:sgd:1'"):
        early_learning.main(["--data-path", str(demo_root / "fer2013"), "resnet:std:sgd:1"])
