"""End to end on tiny generated data: train/test (results.json, thresholds, AP table), exact resume,
on-the-fly images, inference with the authors' thresholds on a real photo, bad rows, Grad-CAM."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
from helpers.emotic import TRAIN_ARGS, run_main
from PIL import Image

from emotic_context.dataset import CATEGORIES, context_and_body
from emotic_context.model import EmoticModel
from emotic_context.presets import stream_transforms
from shared_utils.checkpoint import load_checkpoint
from shared_utils.results import load_results


def test_train_test_writes_results_thresholds_and_table(tiny_run, tiny_dataset):
    run_dir, metrics = tiny_run
    record = load_results(run_dir / "results.json")
    assert record["package"] == "emotic_context" and record["data"] == "demo" and record["split"] == "test"
    assert record["metrics"]["mAP_percent"] == pytest.approx(metrics["mAP_percent"])
    aps = [record["metrics"][f"ap_percent/{c}"] for c in CATEGORIES]
    defined = [a for a in aps if a is not None]
    assert record["metrics"]["mAP_percent"] == pytest.approx(np.mean(defined))
    assert 0 < record["metrics"]["vad_mae"] < 9 and record["baseline"]["mAP_percent"] > 0
    thresholds = np.load(run_dir / "val_thresholds.npy")
    assert thresholds.shape == (26,)
    with open(run_dir / "summary.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["epoch"] for r in rows] == ["1", "2"] and "val_mAP_percent" in rows[0]
    assert "| **mAP** |" in (run_dir / "ap_table.md").read_text()
    for name in ("test_ap_per_category.png", "test_pr_curves.png", "learning_curves.png", "args.yaml"):
        assert (run_dir / name).is_file(), name


def test_resume_continues_exactly(tiny_run, tiny_dataset, tmp_path):
    run_dir, _ = tiny_run
    root, _ = tiny_dataset
    half = tmp_path / "half"
    common = ["--mode", "train", "--data_path", str(root / "emotic_pre"), "--experiment_path", str(half)]
    run_main(common + [a if a != "2" else "1" for a in TRAIN_ARGS[:2]] + TRAIN_ARGS[2:])
    run_main(common + TRAIN_ARGS + ["--resume"])
    full = load_checkpoint(run_dir / "checkpoint_last.pt")["model"]
    resumed = load_checkpoint(half / "checkpoint_last.pt")["model"]
    for key in full:
        assert torch.equal(full[key], resumed[key]), key
    with pytest.raises(SystemExit, match="already exists"):
        run_main(common + TRAIN_ARGS)


def test_images_on_the_fly_give_the_same_test_metrics(tiny_run, tiny_dataset, tmp_path):
    run_dir, metrics = tiny_run
    root, _ = tiny_dataset
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "checkpoint_best.pt").write_bytes((run_dir / "checkpoint_best.pt").read_bytes())
    live = run_main(["--mode", "test", "--data_source", "images", "--data_path", str(root / "emotic_pre"),
                     "--experiment_path", str(copy)])
    assert live["mAP_percent"] == pytest.approx(metrics["mAP_percent"], abs=1e-6)
    assert live["vad_mae"] == pytest.approx(metrics["vad_mae"], abs=1e-5)


def test_testing_a_scored_run_again_leaves_its_files_alone(tiny_run, tiny_dataset):
    run_dir, metrics = tiny_run
    root, _ = tiny_dataset
    written = {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()}
    again = run_main(["--mode", "test", "--data_path", str(root / "emotic_pre"), "--experiment_path", str(run_dir)])
    assert again["mAP_percent"] == pytest.approx(metrics["mAP_percent"], abs=1e-6)
    # val_thresholds.npy (what --mode inference uses), results.json, log.txt: byte for byte as training left them
    assert {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()} == written
    newest = sorted((run_dir / "eval").iterdir())[-1]
    assert {"results.json", "val_thresholds.npy", "args.yaml", "log.txt"} <= {p.name for p in newest.iterdir()}


def _model_scores(run_dir, image_path, box):
    state = load_checkpoint(run_dir / "checkpoint_best.pt")
    arch = state["extra"]["arch"]
    model = EmoticModel(arch["context_model"], arch["body_model"])
    model.load_state_dict(state["model"])
    model.eval()
    context, body = context_and_body(np.asarray(Image.open(image_path).convert("RGB")), box, arch["context_size"],
                                     arch["body_size"])
    context_tf, body_tf = stream_transforms(train=False)
    with torch.no_grad():
        cat, cont = model(context_tf(Image.fromarray(context))[None], body_tf(Image.fromarray(body))[None])
    return cat[0].numpy(), cont[0].numpy() * 10


def test_inference_with_the_authors_thresholds_on_a_real_photo(tiny_run, shared, tmp_path):
    run_dir, _ = tiny_run
    photo = shared("data/emotic/sample_photo.png")
    box = json.loads(shared("data/emotic/sample_photo.json").read_text())["body_bbox_x1y1x2y2_approx"]
    listing = tmp_path / "list.txt"
    listing.write_text(f"# comment\n{photo} {' '.join(map(str, box))}\n"
                       f"{photo} 10 20\n"                       # line 3: malformed
                       f"{tmp_path / 'missing.jpg'} 1 2 3 4\n"  # line 4: missing file
                       f"{photo} 2000 2000 2100 2100\n"          # line 5: outside the image
                       f"{photo} -20 -10 300 200\n")             # line 6: exceeds: clamped
    out = tmp_path / "out.csv"
    thresholds = shared("data/emotic/thresholds_rkosti.mat")
    run_main(["--mode", "inference", "--experiment_path", str(run_dir), "--inference_file", str(listing),
              "--thresholds", str(thresholds), "--inference_output", str(out)])
    rows = list(csv.DictReader(out.open()))
    assert [r["line"] for r in rows] == ["2", "6"]
    assert [int(rows[1][k]) for k in ("x1", "y1", "x2", "y2")] == [0, 0, 300, 200]
    scores, vad = _model_scores(run_dir, photo, box)
    from emotic_context.evaluation import load_thresholds

    expected = [c for c, s, t in zip(CATEGORIES, scores, load_thresholds(thresholds)) if s > t]
    assert rows[0]["categories"] == ";".join(expected)
    assert [float(rows[0][k]) for k in ("valence", "arousal", "dominance")] == pytest.approx(vad, abs=2e-3)
    # Thresholds really decide: all-low thresholds select all 26 categories, all-high none.
    for value, count in ((-1e9, 26), (1e9, 0)):
        np.save(tmp_path / "t.npy", np.full(26, value))
        run_main(["--mode", "inference", "--experiment_path", str(run_dir), "--inference_file", str(listing),
                  "--thresholds", str(tmp_path / "t.npy"), "--inference_output", str(out)])
        first = list(csv.DictReader(out.open()))[0]["categories"]
        assert len([c for c in first.split(";") if c]) == count
    with pytest.raises(SystemExit, match=r"list.txt:3: expected 'path x1 y1 x2 y2', found 3 field"):
        run_main(["--mode", "inference", "--experiment_path", str(run_dir), "--inference_file", str(listing),
                  "--on_bad_row", "fail", "--inference_output", str(out)])


def test_bad_inputs_are_one_line_errors(tmp_path, tiny_run):
    with pytest.raises(SystemExit, match="--data_path"):
        run_main(["--mode", "train", "--experiment_path", str(tmp_path / "x")])
    with pytest.raises(SystemExit, match="nowhere: --data_path is not a folder"):
        run_main(["--mode", "test", "--data_path", str(tmp_path / "nowhere"), "--experiment_path",
                  str(tiny_run[0])])
    with pytest.raises(SystemExit, match="run folder not found"):
        run_main(["--mode", "test", "--experiment_path", str(tmp_path / "none")])


def test_a_best_checkpoint_in_the_earlier_format_still_loads(tiny_run, tmp_path):
    """Before RunRecorder, emotic_context saved its best checkpoint without optimizer state (training_state(model,
    epoch=..., extra={"arch", "tracker"}) in main.py at commit 27906a5): it still rebuilds the same model."""
    from emotic_context.model import model_from_checkpoint

    run_dir, _ = tiny_run
    state = load_checkpoint(run_dir / "checkpoint_best.pt")
    old = {"model": state["model"], "optimizer": None, "scheduler": None, "scaler": None, "epoch": state["epoch"],
           "rng": state["rng"], "extra": {"arch": state["extra"]["arch"], "tracker": state["extra"]["tracker"]}}
    torch.save(old, tmp_path / "old_best.pt")
    model, arch, _ = model_from_checkpoint(tmp_path / "old_best.pt", tmp_path)
    assert arch == state["extra"]["arch"]
    for key, value in model.state_dict().items():
        assert torch.equal(value, state["model"][key]), key
