"""Ordinary mistakes on the entry points: one line on stderr naming the option or file, a non-zero exit, and no
file created, changed or removed anywhere under the test's folder (data and outputs hashed before and after).

Each row runs the module as ``python -m`` would (``runpy``, in this process: the modules are imported once).
"""

from __future__ import annotations

import hashlib
import runpy
import sys
from pathlib import Path

import pytest
import torch

from fer_seresnet.demo_data import write_demo as write_fer_demo


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir")
            for p in sorted(root.rglob("*"))}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A folder holding FER demo data, a user's own files and a few bad inputs."""
    root = tmp_path_factory.mktemp("mistakes")
    fer = write_fer_demo(root / "fer_demo") / "fer2013"
    (root / "user_data").mkdir()
    (root / "user_data" / "notes.txt").write_text("a user's file\n")
    (root / "a_file").write_text("not a folder\n")
    torch.save([1, 2, 3], root / "list.pt")
    (root / "bad_type.yaml").write_text("batch_size: many\n")
    (root / "bad_bool.yaml").write_text("eval_ten_crop: perhaps\n")
    emoreact = root / "emoreact_splits"
    emoreact.mkdir()
    header = ",video,Curiosity,Uncertainty,Excitement,Happiness,Surprise,Disgust,Fear,Frustration,Valence\n"
    for split in ("train", "val", "test"):
        (emoreact / f"{split}.csv").write_text(header + "0,a.mp4,1,0,0,0,0,0,0,0,high\n")
    return {"root": root, "fer": fer}


# (module, arguments with {root} / {fer} placeholders, text the error line must contain)
CASES = [
    ("fer_seresnet.train", ["--data-path", "{fer}", "-b", "0"], "--batch-size"),
    ("fer_seresnet.train", ["--data-path", "{fer}", "-b", "-4"], "--batch-size"),
    ("fer_seresnet.train", ["--data-path", "{fer}", "--epochs", "0"], "--epochs"),
    ("fer_seresnet.train", ["--data-path", "{fer}", "--lr", "nan"], "--lr"),
    ("fer_seresnet.train", ["--data-path", "{fer}", "--lr", "-0.1"], "--lr"),
    ("fer_seresnet.train", ["--data-path", "{fer}", "--holdout-fraction", "1.0"], "--holdout-fraction"),
    ("fer_seresnet.train", ["--data-path", "{fer}", "--config", "{root}/bad_type.yaml"], "batch_size"),
    ("fer_seresnet.train", ["--data-path", "{fer}", "--config", "{root}/bad_bool.yaml"], "eval_ten_crop"),
    ("fer_seresnet.train", ["--data-path", "{root}/no_such_folder"], "no_such_folder"),
    ("fer_seresnet.train", ["--data-path", "{fer}", "--epochs", "1", "--width", "4", "--output", "{root}/a_file/runs"],
     "a_file"),
    ("fer_seresnet.evaluate", ["--checkpoint", "{root}/list.pt", "--data-path", "{fer}"], "list.pt"),
    ("fer_seresnet.visualize", ["--data-path", "{fer}", "--per-class", "0", "--out", "{root}/figs"], "--per-class"),
    ("fer_seresnet.bench", ["--data-path", "{fer}", "-b", "100000", "--steps", "1", "--rounds", "1"], "batch"),
    ("fer_seresnet.bench", ["--steps", "0"], "--steps"),
    ("fer_seresnet.demo_data", ["--out", "{root}/user_data"], "user_data"),
    ("fer_seresnet.predict", ["{root}/no_photo.jpg"], "no_photo.jpg"),
    ("fer_seresnet.predict", ["{root}/a_file", "--every", "0"], "--every"),
    ("emotionroi_ex.demo_data", ["--out", "{root}/eroi", "--min-size", "200", "--max-size", "100"], "--min-size"),
    ("emotionroi_ex.demo_data", ["--out", "{root}/user_data"], "user_data"),
    ("emotionroi_ex.train_ROI_clf", ["-b", "0"], "--batch-size"),
    ("emotionroi_ex.train_ROI_clf", ["--val-fraction", "1.0"], "--val-fraction"),
    ("emotionroi_ex.train_FCNEL", ["--epochs", "0"], "--epochs"),
    ("emotionroi_ex.train_FCNEL", ["--lr", "inf"], "--lr"),
    ("emotic_context.main", ["--lr_step", "0"], "--lr_step"),
    ("emotic_context.main", ["--batch_size", "-1"], "--batch_size"),
    ("emotic_context.main", ["--learning_rate", "nan"], "--learning_rate"),
    ("emotic_context.demo_data", ["--out", "{root}/user_data"], "user_data"),
    ("bodily_tsn.train_EmoReact", ["--limit_clips", "-1"], "--limit_clips"),
    ("bodily_tsn.train_EmoReact", ["--num_segments", "0"], "--num_segments"),
    ("bodily_tsn.train_EmoReact", ["-b", "0"], "--batch-size"),
    ("bodily_tsn.benchmark", ["--clips", "0"], "--clips"),
    ("bodily_tsn.demo_data", ["--out", "{root}/user_data"], "user_data"),
    ("fer_seresnet.app", ["--port", "0"], "--port"),
    ("fer_seresnet.app", ["--checkpoint", "{root}/list.pt"], "list.pt"),
    ("emotic_context.app", ["--checkpoint", "{root}/missing.pt"], "missing.pt"),
    ("emotionroi_ex.app", ["--checkpoint", "{root}/a_file"], "a_file"),
    ("bodily_tsn.app", ["--checkpoint", "{root}/missing.pt"], "missing.pt"),
]


@pytest.mark.filterwarnings("ignore:.*found in sys.modules:RuntimeWarning")  # runpy re-running a module
@pytest.mark.parametrize("module,argv,expected", CASES, ids=[f"{m}:{' '.join(a)}" for m, a, _ in CASES])
def test_mistake_is_one_line_and_touches_nothing(module, argv, expected, workspace, capsys, monkeypatch):
    root, fer = workspace["root"], workspace["fer"]
    argv = [a.format(root=root, fer=fer) for a in argv]
    before = tree_digest(root)
    monkeypatch.setattr(sys, "argv", [module.rsplit(".", 1)[-1] + ".py", *argv])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module(module, run_name="__main__", alter_sys=False)
    code = exit_info.value.code
    err = capsys.readouterr().err
    # SystemExit("message") prints the message as the process's last stderr line; argparse writes its own line.
    lines = [line for line in err.splitlines() if line.strip()]
    if isinstance(code, str):
        lines.append(code)
    else:
        assert code not in (0, None), f"{module} {argv}: exited 0"
    assert len(lines) == 1, f"{module} {argv}: expected one stderr line, got:\n" + "\n".join(lines)
    assert "error" in lines[0] and expected.format(root=root) in lines[0], lines[0]
    assert "Traceback" not in err
    assert tree_digest(root) == before, f"{module} {argv} changed files under {root}"
