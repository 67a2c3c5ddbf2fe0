"""The FER2013 model that ships in fer_seresnet/models/: intact, the default of predict and evaluate, and right on
posed photos it never saw."""

from __future__ import annotations

import hashlib
import json

import pytest

from fer_seresnet import evaluate, faces, predict
from fer_seresnet.options import SHIPPED_CHECKPOINT

# ../shared/data/samples: the file name says the posed expression (su = surprise, hao = happy, anc = anger,
# di = disgust).
POSED = {"0-f1-su-ph.jpg": "surprise", "0-f15-hao-ph.jpg": "happy", "15-f13-anc-ph.jpg": "angry",
         "45-m7-di-ph.jpg": "disgust"}


def test_shipped_model_matches_its_manifest():
    manifest = json.loads((SHIPPED_CHECKPOINT.parent / "MANIFEST.json").read_text())[SHIPPED_CHECKPOINT.name]
    assert hashlib.sha256(SHIPPED_CHECKPOINT.read_bytes()).hexdigest() == manifest["sha256"]
    assert manifest["data"] == "real" and manifest["dataset"] == "fer2013" and manifest["test_split"] == "public_test"
    # the best real FER2013 model trained here (README: 70.16 % ten-crop), fp16, a few MB
    assert manifest["arch"] == "se_resnet18" and manifest["test_accuracy_ten_crop"] > 0.70
    assert SHIPPED_CHECKPOINT.stat().st_size < 8e6
    assert evaluate.get_args_parser().parse_args(["--data-path", "x"]).checkpoint == str(SHIPPED_CHECKPOINT)


def test_shipped_model_reads_posed_photos(shared, capsys):
    photos = [shared(f"data/samples/{name}") for name in POSED]
    code = predict.main([*map(str, photos), "--json"])  # no --checkpoint: the shipped model
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0 and len(records) == 4 and all(len(r["faces"]) == 1 for r in records)
    right = [r["faces"][0]["label"] == POSED[photo.name] for r, photo in zip(records, photos)]
    # Surprise and happiness are read; the posed anger (read as fear) and the turned disgust face (read as neutral)
    # are not: 2 of 4, the shipped model's measured level (README), short of the 3 of 4 we want from a better model.
    assert sum(right) >= 2 and right[:2] == [True, True], [(p.name, r["faces"][0]["label"])
                                                          for p, r in zip(photos, records)]


def test_shipped_model_one_prediction_per_detected_face(shared, capsys):
    group = shared("data/samples/multi_face.jpg")
    predictor = faces.FacePredictor()
    boxes = predictor.detect(faces.read_rgb(group))
    assert predict.main([str(group), "--json"]) == 0
    [record] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [face["box"] for face in record["faces"]] == [list(box) for box in boxes] and len(boxes) >= 3


def test_evaluate_defaults_to_the_shipped_model_and_the_data_kind_of_the_data(demo_root, tmp_path):
    from shared_utils.runs import parse_args_with_config

    evaluate.main(parse_args_with_config(evaluate.get_args_parser(), [
        "--data-path", str(demo_root / "fer2013"), "--output", str(tmp_path), "--experiment", "shipped"]))
    record = json.loads((tmp_path / "shipped" / "results.json").read_text())
    assert record["data"] == "demo"  # drawn faces, found by the generator's marker, not by a flag
    assert record["extra"]["num_samples"] == 140


def test_registry_serves_the_shipped_model_offline_and_checks_it(tmp_path, monkeypatch):
    import shutil

    import torch

    from fer_seresnet.model import build_model
    from shared_utils import weights
    from shared_utils.checkpoint import load_model_weights

    monkeypatch.setenv("VISUAL_EMOTION_OFFLINE", "1")
    assert weights.local_file("fer2013_se_resnet18", "--pretrained") == SHIPPED_CHECKPOINT  # no download, no cache
    assert weights.local_file("fer2013_se_cnn", "--pretrained") == SHIPPED_CHECKPOINT.parent / "fer2013_se_cnn.pt"
    model = build_model("se_resnet18", 7, 32)
    load_model_weights(model, SHIPPED_CHECKPOINT)
    shipped = torch.load(SHIPPED_CHECKPOINT, weights_only=True)["model"]
    assert torch.equal(model.state_dict()["fc.weight"], shipped["fc.weight"].float())
    # A changed file is refused against the manifest.
    copy = tmp_path / "fer_seresnet" / "models"
    copy.mkdir(parents=True)
    shutil.copy(SHIPPED_CHECKPOINT.parent / "MANIFEST.json", copy)
    data = bytearray(SHIPPED_CHECKPOINT.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte flipped inside the weights
    (copy / SHIPPED_CHECKPOINT.name).write_bytes(bytes(data))
    monkeypatch.setattr(weights, "REPO_ROOT", tmp_path)
    with pytest.raises(SystemExit, match="is not the .* its MANIFEST.json records"):
        weights.fetch("fer2013_se_resnet18")
