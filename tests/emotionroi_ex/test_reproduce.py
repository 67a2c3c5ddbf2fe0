"""reproduce.py's orchestration on a tiny demo (the real demo recipes are shrunk through CONFIGS)."""

import json

import yaml

from emotionroi_ex import reproduce

TINY = {"epochs": 1, "batch_size": 4, "input_size": 32, "opt": "adam", "lr": 1.0e-3, "max_steps_per_epoch": 1}


def test_reproduce_demo_end_to_end(tmp_path, monkeypatch, capsys):
    configs = tmp_path / "configs"
    configs.mkdir()
    fcn = {"arch": "fcn_resnet50", "backbone": "resnet50"}
    for name, extra in (("demo_fcnel.yaml", fcn), ("demo_emofcnel.yaml", {**fcn, "sensitivity_images": 2}),
                        ("demo_roi_clf.yaml", {"backbone": "resnet18"})):
        (configs / name).write_text(yaml.safe_dump({**TINY, **extra}))
    monkeypatch.setattr(reproduce, "CONFIGS", configs)
    monkeypatch.setattr(reproduce, "DEMO_PER_CLASS", 3)
    out = tmp_path / "runs"
    reproduce.main(["--data-root", str(tmp_path / "nothing"), "--out", str(out), "--device", "cpu"])
    first_line = capsys.readouterr().out.splitlines()[0]
    assert first_line == (f"emotionroi_ex: no EmotionROI at {tmp_path / 'nothing' / 'EmotionROI'} "
                          "(see emotionroi_ex/README.md to get it); running on demo data")
    experiments = {"fcnel", "emofcnel", "roi_clf", "baseline_spectral_residual", "baseline_center_bias",
                   "baseline_objectness", "baseline_mean_map"}
    for name in experiments:
        record = json.loads((out / name / "results.json").read_text())
        assert record["data"] == "demo" and record["experiment"] == name and record["package"] == "emotionroi_ex"
    assert (out / "demo_data" / "EmotionROI" / "training_testing_split" / "testing.txt").is_file()
    # a second run reuses the demo data and overwrites the demo runs
    stamp = (out / "demo_data" / "EmotionROI" / "images" / "joy" / "1.jpg").stat().st_mtime_ns
    reproduce.main(["--data-root", str(tmp_path / "nothing"), "--out", str(out), "--device", "cpu"])
    assert (out / "demo_data" / "EmotionROI" / "images" / "joy" / "1.jpg").stat().st_mtime_ns == stamp
