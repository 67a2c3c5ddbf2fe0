from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from helpers.hooks import hook_count

from bodily_tsn.cam import run_cam
from bodily_tsn.dataset import EmoReactClips
from bodily_tsn.presets import ClipEvalTransform
from bodily_tsn.reproduce import reproduce
from bodily_tsn.tools.mask_faces import build_masked
from bodily_tsn.tools.vid2img_emoreact import extract
from bodily_tsn.train_EmoReact import get_args_parser, main
from shared_utils.checkpoint import load_checkpoint
from shared_utils.results import load_results
from shared_utils.runs import parse_args_with_config

TINY = ["--arch", "mobilenet_v2", "--num_segments", "2", "--crop_size", "32", "--scale_size", "36", "-b", "4",
        "--no_partialbn", "--lr", "0.01", "--device", "cpu", "--threads", "1", "--pretrained", "none"]


def train(demo_root, out, *extra):
    argv = [*TINY, "--data_root", str(demo_root), "--output", str(out), *extra]
    return main(parse_args_with_config(get_args_parser(), argv))


@pytest.fixture(scope="module")
def fusion_run(demo_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    test = train(demo_root, out, "--input", "fusion", "--shift", "--mask", "--valence", "--epochs", "2",
                 "--experiment", "fusion")
    return out / "fusion", test


def test_training_writes_results_and_plots(fusion_run):
    run, test = fusion_run
    record = load_results(run / "results.json")
    assert record["package"] == "bodily_tsn" and record["data"] == "demo" and record["split"] == "test"
    metrics = record["metrics"]
    assert 0.0 <= metrics["roc_auc_micro"] <= 1.0 and metrics["roc_auc_micro"] == pytest.approx(test["roc_auc_micro"])
    assert set(metrics["roc_auc_per_label"]) == {"Curiosity", "Uncertainty", "Excitement", "Happiness", "Surprise",
                                                "Disgust", "Fear", "Frustration"}
    assert "roc_auc_micro_face_stream" in metrics and "valence_mae" in metrics
    assert 0 < metrics["valence_mae"] < 6
    # the prior baseline scores every clip alike: per-label AUC exactly 0.5 where defined
    assert all(v in (None, 0.5) for v in record["baseline"]["roc_auc_per_label"].values())
    for name in ("test_auc_per_label.png", "test_roc_curves.png", "test_pr_curves.png", "learning_curves.png",
                 "summary.csv", "args.yaml", "test_predictions.csv"):
        assert (run / name).is_file(), name
    rows = (run / "summary.csv").read_text().strip().splitlines()
    assert rows[0].startswith("epoch,") and len(rows) == 3
    assert len((run / "test_predictions.csv").read_text().strip().splitlines()) == 5


def test_resume_continues_exactly(demo_root, tmp_path):
    train(demo_root, tmp_path, "--input", "face", "--epochs", "2", "--experiment", "straight")
    train(demo_root, tmp_path, "--input", "face", "--epochs", "1", "--experiment", "resumed")
    # the original's spelling: -r PATH (here the run's checkpoint) continues that run
    last = tmp_path / "resumed" / "checkpoint_last.pt"
    train(demo_root, tmp_path, "--input", "face", "--epochs", "2", "-r", str(last))
    a = load_checkpoint(tmp_path / "straight" / "checkpoint_last.pt")
    b = load_checkpoint(tmp_path / "resumed" / "checkpoint_last.pt")
    assert a["epoch"] == b["epoch"] == 2
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key
    straight = [r.split(",")[:3] for r in (tmp_path / "straight" / "summary.csv").read_text().splitlines()]
    resumed = [r.split(",")[:3] for r in (tmp_path / "resumed" / "summary.csv").read_text().splitlines()]
    assert straight == resumed
    with pytest.raises(SystemExit, match="already exists"):
        train(demo_root, tmp_path, "--input", "face", "--epochs", "1", "--experiment", "straight")


def test_missing_data_is_one_clear_error(tmp_path, monkeypatch):
    with pytest.raises(SystemExit, match="no EmoReact data at .*python -m bodily_tsn.demo_data"):
        train(tmp_path / "absent", tmp_path, "--input", "fusion", "--shift")
    (tmp_path / "data" / "EmoReact" / "Data" / "AllVideos").mkdir(parents=True)
    monkeypatch.setenv("VISUAL_EMOTION_WEIGHTS", str(tmp_path / "weights"))
    # the real recipe starts from the original's AffectNet file: offline, one line says where to put it
    with pytest.raises(SystemExit, match=r"--pretrained affectnet: TSM_adjusted_resnet50_best\.pth .* is not at "):
        reproduce(tmp_path / "data", tmp_path / "runs")
    assert not (tmp_path / "runs").exists()  # refused before any run folder is made
    with pytest.raises(SystemExit, match="not none"):
        reproduce(tmp_path / "data", tmp_path / "runs", pretrained="none")


def test_gradcam_per_frame_strip_and_animation(fusion_run, tmp_path):
    run, _ = fusion_run
    written = run_cam(run, "Happiness", method="gradcam++", num_clips=1, out=tmp_path)
    names = sorted(p.name for p in written)
    assert len(names) == 4 and any(n.endswith("_face_Happiness_gradcam++.gif") for n in names)
    assert all(p.stat().st_size > 0 for p in written)
    from bodily_tsn.explain import explain_clip, load_run_args
    from bodily_tsn.model import build_model

    args = load_run_args(run)
    args.pretrained = None
    model = build_model(args).eval()
    frames = torch.randn(2, 2, 3, 32, 32)
    result = explain_clip(model, frames, 3, "eigencam")
    assert result["face"]["maps"].shape == (2, 32, 32)
    assert result["face"]["maps"].min() >= 0 and result["face"]["maps"].max() <= 1
    assert hook_count(model) == 0


def test_frame_tools_are_idempotent_and_match_mp4(demo_root, tmp_path):
    frames_dir = tmp_path / "frames"
    first = extract(demo_root, frames_dir, show_progress=False)
    assert first["extracted"] == 16 and extract(demo_root, frames_dir, show_progress=False)["skipped_done"] == 16
    clip = sorted(frames_dir.iterdir())[0]
    assert len(list(clip.glob("*.jpg"))) == 20
    from_mp4 = EmoReactClips(demo_root, demo_root / "test.csv", "fusion", 3, transform=ClipEvalTransform(32),
                             source="mp4", show_progress=False)
    from_jpg = EmoReactClips(demo_root, demo_root / "test.csv", "fusion", 3, transform=ClipEvalTransform(32),
                             frames_dir=frames_dir, show_progress=False)
    assert float((from_mp4[0]["frames"] - from_jpg[0]["frames"]).abs().mean()) < 0.05  # JPEG loss only
    masked_dir = tmp_path / "masked"
    counts = build_masked(demo_root, masked_dir, frames_dir=frames_dir, show_progress=False)
    assert counts["masked"] == 16 and build_masked(demo_root, masked_dir, show_progress=False)["skipped_done"] == 16
    masked = EmoReactClips(demo_root, demo_root / "test.csv", "face", 3, frames_dir=masked_dir, show_progress=False)
    on_the_fly = EmoReactClips(demo_root, demo_root / "test.csv", "face", 3, draw_mask=True, source="mp4",
                               show_progress=False)
    idx = masked.sample_indices(0)
    a, b = masked.crops(0, idx)["face"][0], on_the_fly.crops(0, idx)["face"][0]
    assert np.abs(a.astype(int) - b.astype(int)).mean() < 6
    assert not list(masked_dir.glob(".*partial"))


def test_original_command_line_from_package_folder_fails_cleanly_without_data(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    package = Path(__file__).resolve().parents[2] / "bodily_tsn"
    done = subprocess.run([sys.executable, "train_EmoReact.py", "--input", "fusion", "--shift", "--config",
                           "EmoReact/config.json", "--data_root", str(tmp_path / "none")],
                          cwd=package, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith(f"error: no EmoReact data at {tmp_path / 'none'}")
    assert "Traceback" not in done.stderr


def test_test_only_rescores_the_best_checkpoint(fusion_run, demo_root):
    run, test = fusion_run
    written = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    again = train(demo_root, run.parent, "--input", "fusion", "--shift", "--mask", "--valence",
                  "--experiment", "fusion", "--test_only")
    assert again["roc_auc_micro"] == pytest.approx(test["roc_auc_micro"])
    assert again["roc_auc_per_label"] == test["roc_auc_per_label"]
    # The evaluation has its own folder; what training wrote is left byte for byte.
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == written
    (evaluation,) = (run / "eval").iterdir()
    assert {"results.json", "args.yaml", "log.txt", "test_predictions.csv"} <= {p.name for p in evaluation.iterdir()}


def test_original_command_with_config_and_original_weights_trains_on_demo_data(demo_root, tmp_path,
                                                                             original_resnet50_file):
    """cd bodily_tsn && python train_EmoReact.py --config EmoReact/config.json --input fusion --shift
    --pretrained FILE, with a random file in the original's TSM AffectNet layout (shrunk to run in seconds)."""
    import subprocess
    import sys
    from pathlib import Path

    weights = tmp_path / "TSM_adjusted_resnet50_best.pth"
    original_resnet50_file(weights, shift=True, seed=0)
    package = Path(__file__).resolve().parents[2] / "bodily_tsn"
    done = subprocess.run(
        [sys.executable, "train_EmoReact.py", "--config", "EmoReact/config.json", "--input", "fusion", "--shift",
         "--pretrained", str(weights), "--data_root", str(demo_root), "--output", str(tmp_path / "runs"),
         "--epochs", "1", "--crop_size", "32", "--scale_size", "36", "-b", "4", "-j", "0", "-d", "cpu",
         "--threads", "1"],
        cwd=package, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    run = tmp_path / "runs" / "tsm_fusion_resnet50_seg3"
    record = load_results(run / "results.json")
    assert record["extra"]["num_segments"] == 3 and record["extra"]["arch"] == "resnet50"
    log = (run / "log.txt").read_text()
    assert f"starting weights: {weights}" in log and "frames: original" in log and "dropout none" in log


def test_non_finite_numbers_stop_in_one_line(demo_root, tmp_path):
    from bodily_tsn.train_EmoReact import check_finite

    scores = torch.tensor([[0.1, 0.2], [float("nan"), 0.3]])
    with pytest.raises(SystemExit, match=r"validation after epoch 3 scores are not finite for 1 of 2 clips"):
        check_finite({"scores": scores}, "validation after epoch 3")
    with pytest.raises(SystemExit, match=r"training loss became nan at epoch 0 step \d+; lower --lr"):
        train(demo_root, tmp_path, "--input", "face", "--epochs", "1", "--lr", "1e30", "--experiment", "nan")
    # random weights with partial BN (the original's default from scratch): the error says what to change
    with_partial_bn = [arg for arg in TINY if arg != "--no_partialbn"]
    argv = [*with_partial_bn, "--data_root", str(demo_root), "--output", str(tmp_path), "--input", "face",
            "--epochs", "1", "--lr", "1e30", "--experiment", "nan_pbn"]
    diverged = r"(became nan|not finite).*partial BN.*--pretrained affectnet.*--no_partialbn"
    with pytest.raises(SystemExit, match=diverged):
        main(parse_args_with_config(get_args_parser(), argv))


def test_sizes_that_would_silently_do_nothing_are_errors(demo_root, tmp_path, capsys):
    from bodily_tsn import benchmark
    from bodily_tsn.tools import mask_faces

    with pytest.raises(SystemExit):
        train(demo_root, tmp_path, "--limit_clips", "-1", "--epochs", "1")
    assert "argument --limit_clips: -1 is not a positive integer" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # refused before any run folder
    for flag in ("--clips", "--steps", "--batch_size"):
        with pytest.raises(SystemExit):
            benchmark.main(["--data_root", str(demo_root), flag, "0"])
    with pytest.raises(SystemExit):
        mask_faces.main(["--data_root", str(demo_root), "--out", str(tmp_path / "f"), "--frames_dir",
                         str(tmp_path / "f")])
    assert not (tmp_path / "f").exists()


def test_a_best_checkpoint_in_the_earlier_format_still_scores(fusion_run, demo_root, tmp_path):
    """Before the trainers shared RunRecorder, bodily_tsn saved its best checkpoint as {"model", "epoch"} only
    (train_EmoReact.py at commit 27906a5); such a file still loads for --test_only and gives the same scores."""
    import shutil

    run, test = fusion_run
    copy = tmp_path / "old" / "fusion"
    copy.parent.mkdir()
    copy.mkdir()
    shutil.copy(run / "args.yaml", copy / "args.yaml")
    state = load_checkpoint(run / "checkpoint_best.pt")
    torch.save({"model": state["model"], "epoch": state["epoch"]}, copy / "checkpoint_best.pt")
    again = train(demo_root, copy.parent, "--input", "fusion", "--shift", "--mask", "--valence",
                  "--experiment", "fusion", "--test_only")
    assert again["roc_auc_micro"] == pytest.approx(test["roc_auc_micro"])


def test_step_benchmark_alternates_settings_and_an_older_commit(capsys):
    """benchmark.py's step section: each setting, and a git revision's own code, timed in its own process."""
    from bodily_tsn import benchmark

    if not (Path(benchmark.__file__).resolve().parents[1] / ".git").exists():
        pytest.skip("--ref needs a git checkout")
    benchmark.main(["--sections", "step", "--ref", "HEAD", "--settings", "fp32", "default", "--arch", "mobilenet_v2",
                    "--num_segments", "2", "--batch_size", "2", "--crop_size", "32", "--steps", "1", "--threads", "1"])
    table = capsys.readouterr().out
    rows = {line.split("|")[1].strip(): line for line in table.splitlines() if line.startswith("| ")}
    assert set(rows) == {"setting", "HEAD (its defaults)", "fp32", "default"}
    assert "1.00x" in rows["HEAD (its defaults)"]  # the first row is the reference
    with pytest.raises(SystemExit, match="--ref no-such-rev: git archive failed"):
        benchmark.main(["--sections", "step", "--ref", "no-such-rev", "--settings", "fp32"])
