"""The FER2013 model that ships in fer_seresnet/models/: intact, the default of predict and evaluate, and right on
posed photos it never saw."""

from __future__ import annotations

import hashlib
import json

from fer_seresnet import evaluate, predict
from fer_seresnet.evaluate import SHIPPED_CHECKPOINT

# ../shared/data/samples: the file name says the posed expression (su = surprise, hao = happy, anc = anger,
# di = disgust).
POSED = {"0-f1-su-ph.jpg": "surprise", "0-f15-hao-ph.jpg": "happy", "15-f13-anc-ph.jpg": "angry",
         "45-m7-di-ph.jpg": "disgust"}


def test_shipped_model_matches_its_manifest():
    manifest = json.loads((SHIPPED_CHECKPOINT.parent / "MANIFEST.json").read_text())[SHIPPED_CHECKPOINT.name]
    assert hashlib.sha256(SHIPPED_CHECKPOINT.read_bytes()).hexdigest() == manifest["sha256"]
    assert manifest["data"] == "real" and manifest["dataset"] == "fer2013" and manifest["test_split"] == "public_test"
    assert manifest["test_accuracy_ten_crop"] > 0.6 and SHIPPED_CHECKPOINT.stat().st_size < 5e6
    assert evaluate.get_args_parser().parse_args(["--data-path", "x"]).checkpoint == str(SHIPPED_CHECKPOINT)


def test_shipped_model_reads_posed_photos(shared, capsys):
    photos = [shared(f"data/samples/{name}") for name in POSED]
    code = predict.main([*map(str, photos), "--json"])  # no --checkpoint: the shipped model
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0 and len(records) == 4 and all(len(r["faces"]) == 1 for r in records)
    right = [r["faces"][0]["label"] == POSED[photo.name] for r, photo in zip(records, photos)]
    # Surprise and happiness are read; the posed anger (read as fear) and the turned disgust face (read as anger) are
    # not: 2 of 4, the shipped model's measured level (README), short of the 3 of 4 we want from a better model.
    assert sum(right) >= 2 and right[:2] == [True, True], [(p.name, r["faces"][0]["label"])
                                                          for p, r in zip(photos, records)]


def test_shipped_model_one_prediction_per_detected_face(shared, capsys):
    group = shared("data/samples/multi_face.jpg")
    predictor = predict.FacePredictor()
    boxes = predictor.detect(predict.read_rgb(group))
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
