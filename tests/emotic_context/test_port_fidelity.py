"""What makes emotic_context run as Tandon-A/emotic does: its trunks by name, its notebook's recipe, its
person rules on the real EMOTIC val/test annotations, EXIF-aware decoding, and its users' saved models."""

from __future__ import annotations

import io
import json
import pickle
import struct
import subprocess
import sys
import tarfile
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torchvision
from helpers.emotic import TRAIN_ARGS, run_main
from PIL import Image

from emotic_context import convert_port
from emotic_context.dataset import CATEGORIES, load_annotations_mat, read_rgb
from emotic_context.demo_data import write_annotations_mat
from emotic_context.model import EmoticModel, build_trunk, resolve_weights
from shared_utils.checkpoint import load_checkpoint
from shared_utils.results import load_results


# --------------------------------------------------------------------------- trunks by name
def _legacy_tar_save(state: dict, path) -> None:
    """torch's pre-1.0 ``.tar`` serialisation (what torch.load's legacy_load reads): members ``storages``,
    ``tensors`` and ``pickle``, tensors referenced by persistent ids."""
    storages, tensors = io.BytesIO(), io.BytesIO()
    pickle.dump(len(state), storages, protocol=2)
    for key, value in enumerate(state.values()):
        data = value.detach().contiguous().float()
        pickle.dump((key, "cpu", torch.FloatStorage), storages, protocol=2)
        storages.write(struct.pack("<q", data.numel()) + data.numpy().tobytes())
    pickle.dump([], storages, protocol=2)  # no storage views
    pickle.dump(len(state), tensors, protocol=2)
    for key, value in enumerate(state.values()):
        pickle.dump((1000 + key, key, torch.FloatTensor), tensors, protocol=2)
        shape, stride = tuple(value.shape), tuple(value.contiguous().stride())
        tensors.write(struct.pack("<i", len(shape)) + b"\0\0\0\0" + struct.pack(f"<{len(shape)}q", *shape)
                      + struct.pack(f"<{len(shape)}q", *stride) + struct.pack("<q", 0))

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return str(1000 + ids[id(obj)]) if id(obj) in ids else None

    ids = {id(v): k for k, v in enumerate(state.values())}
    body = io.BytesIO()
    Pickler(body, protocol=2).dump({"epoch": 90, "arch": "resnet18",
                                    "state_dict": OrderedDict((f"module.{k}", v) for k, v in state.items())})
    with tarfile.open(path, "w:", format=tarfile.PAX_FORMAT) as tar:
        for name, buffer in (("storages", storages), ("tensors", tensors), ("pickle", body)):
            info = tarfile.TarInfo(name)
            info.size = len(buffer.getvalue())
            tar.addfile(info, io.BytesIO(buffer.getvalue()))


def test_places365_and_imagenet_names_resolve_through_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VISUAL_EMOTION_WEIGHTS", str(tmp_path))
    with pytest.raises(SystemExit, match=r"--context_weights places365: resnet18_places365\.pth\.tar .* is not at "
                                         r".*; download http://places2\.csail\.mit\.edu/models_places365/"
                                         r"resnet18_places365\.pth\.tar by hand .*or pass --context_weights PATH"):
        resolve_weights("places365", "resnet18", "--context_weights")
    assert resolve_weights("none", "resnet18", "--body_weights") is None
    # the 2017 Places365 release: torch's legacy .tar format, a DataParallel "module." prefix and a 365-way fc
    places = torchvision.models.resnet18(num_classes=365).state_dict()
    places = {k: v for k, v in places.items() if not k.endswith("num_batches_tracked")}
    _legacy_tar_save(places, tmp_path / "resnet18_places365.pth.tar")
    with pytest.raises(RuntimeError, match="legacy .tar format"):
        torch.load(tmp_path / "resnet18_places365.pth.tar", weights_only=True)
    path = resolve_weights("places365", "resnet18", "--context_weights")
    trunk, dim = build_trunk("resnet18", path, "context")
    assert dim == 512 and torch.equal(trunk.layer4[1].conv2.weight, places["layer4.1.conv2.weight"])
    # torchvision's file names carry their hash prefix: a stand-in under that name is recognised as not the file
    torch.save(torchvision.models.resnet18().state_dict(), tmp_path / "resnet18-f37072fd.pth")
    with pytest.raises(SystemExit, match=r"--body_weights imagenet: .*resnet18-f37072fd\.pth: sha256 .* does not "
                                         r"start with f37072fd"):
        resolve_weights("imagenet", "resnet18", "--body_weights")


def test_train_refuses_missing_trunk_files_before_making_anything(tiny_dataset, tmp_path, monkeypatch):
    root, _ = tiny_dataset
    monkeypatch.setenv("VISUAL_EMOTION_WEIGHTS", str(tmp_path / "empty"))
    with pytest.raises(SystemExit, match=r"--context_weights places365: resnet18_places365\.pth\.tar"):
        run_main(["--mode", "train", "--data_path", str(root / "emotic_pre"), "--experiment_path",
                  str(tmp_path / "run"), "--epochs", "1"])
    assert not (tmp_path / "run").exists()


# --------------------------------------------------------------------------- the notebook's recipe
def test_frozen_trunks_keep_weights_but_update_batchnorm_and_val_loss_picks_the_model(tiny_dataset, tmp_path):
    root, _ = tiny_dataset
    args = [a for a in TRAIN_ARGS if a not in ("val_map",)]
    args[args.index("--select_by") + 1:args.index("--select_by") + 1] = ["val_loss"]
    run_dir = tmp_path / "colab"
    run_main(["--mode", "train", "--data_path", str(root / "emotic_pre"), "--experiment_path", str(run_dir),
              *args, "--freeze_trunks", "--drop_last", "--epochs", "3"])
    torch.manual_seed(1)
    fresh = EmoticModel("resnet18", "resnet18").state_dict()
    last = load_checkpoint(run_dir / "checkpoint_last.pt")["model"]
    # the seed makes the same initial weights: trunks' conv weights unchanged, BatchNorm statistics moved,
    # the fusion head trained
    assert torch.equal(last["context_trunk.layer2.0.conv1.weight"], fresh["context_trunk.layer2.0.conv1.weight"])
    assert torch.equal(last["body_trunk.bn1.weight"], fresh["body_trunk.bn1.weight"])
    assert not torch.equal(last["body_trunk.bn1.running_mean"], fresh["body_trunk.bn1.running_mean"])
    assert not torch.equal(last["fuse.0.weight"], fresh["fuse.0.weight"])
    rows = [line.split(",") for line in (run_dir / "summary.csv").read_text().splitlines()]
    header, rows = rows[0], rows[1:]
    losses = [float(r[header.index("val_loss")]) for r in rows]
    best_epoch = load_checkpoint(run_dir / "checkpoint_best.pt")["epoch"]
    assert best_epoch == int(np.argmin(losses)) + 1


# --------------------------------------------------------------------------- images and persons
def test_exif_orientation_is_applied_as_cv2_imread_does(tmp_path):
    image = np.zeros((20, 40, 3), np.uint8)
    image[:, :10] = 255  # a white band on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    Image.fromarray(image).save(tmp_path / "rotated.jpg", exif=exif, quality=95)
    decoded = read_rgb(tmp_path / "rotated.jpg")
    assert decoded.shape == (40, 20, 3)  # displayed upright, as the port's cv2.imread gives it
    assert decoded[:10].mean() > 200 and decoded[-10:].mean() < 50  # the band is now on top


def _real_split(shared, split: str) -> list[dict]:
    """The real EMOTIC val/test annotations (COCO-style JSON) as the images of an Annotations.mat split:
    one annotator per person whose labels are the combined ones."""
    data = json.loads(shared(f"data/emotic/real_annotations/EMOTIC_{split}_x1y1x2y2.json").read_text())
    images = {img["id"]: {"filename": img["file_name"], "folder": img["folder"], "width": img["width"],
                          "height": img["height"], "persons": []} for img in data["images"]}
    for ann in data["annotations"]:
        vad = tuple(float(ann["annotations_continuous"][k]) for k in ("valence", "arousal", "dominance"))
        images[ann["image_id"]]["persons"].append({
            "bbox": ann["bbox"], "annotators": [(ann["annotations_categories"], vad)],
            "combined_categories": ann["annotations_categories"], "combined_continuous": vad,
            "gender": ann["gender"], "age": ann["age"]})
    return [img for img in images.values() if img["persons"]]


@pytest.mark.shared_data
def test_real_val_and_test_annotations_by_the_ports_rules(shared, tmp_path):
    path = write_annotations_mat(tmp_path / "Annotations.mat",
                                 {"train": [], "val": _real_split(shared, "val"), "test": _real_split(shared, "test")})
    data = load_annotations_mat(path, splits=("val", "test"))
    val, val_dropped = data["val"]
    test, test_dropped = data["test"]
    # every person of the JSON has annotators and a finite VAD; boxes empty after clamping are dropped
    assert len(val) + sum(val_dropped.values()) == 3334 and len(test) + sum(test_dropped.values()) == 7280
    assert len(val) == 3334 and len(test) == 7280, (val_dropped, test_dropped)
    empty = [p for p in test if not p.categories]
    assert len(empty) == 1 and not empty[0].multi_hot().any()  # kept, as the port keeps it
    assert all(1 <= v <= 10 for p in val for v in p.continuous)
    labels = np.stack([p.multi_hot() for p in test])
    assert labels.shape == (7280, len(CATEGORIES)) and labels[:, CATEGORIES.index("Engagement")].mean() > 0.5
    dropping = load_annotations_mat(path, splits=("test",), drop_no_category=True)["test"]
    assert len(dropping[0]) == 7279


# --------------------------------------------------------------------------- the port's saved models
PORT_EMOTIC = '''import torch.nn as nn


class Emotic(nn.Module):
    def __init__(self, num_context_features, num_body_features):
        super(Emotic, self).__init__()
        self.num_context_features = num_context_features
        self.num_body_features = num_body_features
        self.fc1 = nn.Linear((self.num_context_features + num_body_features), 256)
        self.bn1 = nn.BatchNorm1d(256)
        self.d1 = nn.Dropout(p=0.5)
        self.fc_cat = nn.Linear(256, 26)
        self.fc_cont = nn.Linear(256, 3)
        self.relu = nn.ReLU()
'''
SAVE_AS_THE_PORT = '''import shared_utils  # this machine's CPU torch needs it before torchvision
import torch, torch.nn as nn, torchvision
from emotic import Emotic
torch.manual_seed(0)
context, body = torchvision.models.resnet18(), torchvision.models.resnet18()
fusion = Emotic(list(context.children())[-1].in_features, list(body.children())[-1].in_features)
for m in fusion.modules():
    if isinstance(m, nn.BatchNorm1d):
        m.running_mean.normal_(); m.running_var.uniform_(0.5, 2)
context, body = nn.Sequential(*list(context.children())[:-1]), nn.Sequential(*list(body.children())[:-1])
torch.save(fusion, "models/model_emotic1.pth")
torch.save(context, "models/model_context1.pth")
torch.save(body, "models/model_body1.pth")
torch.save({"c": context.state_dict(), "b": body.state_dict(), "f": fusion.state_dict()}, "reference.pth")
'''


def test_a_port_users_saved_models_convert_and_run(tiny_dataset, tmp_path, shared, monkeypatch):
    (tmp_path / "emotic.py").write_text(PORT_EMOTIC)
    (tmp_path / "models").mkdir()
    subprocess.run([sys.executable, "-c", SAVE_AS_THE_PORT], cwd=tmp_path, check=True)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(tmp_path / "models" / "model_emotic1.pth", weights_only=True)
    out = convert_port.main([str(tmp_path / "models"), str(tmp_path / "converted.pt")])
    ours = load_checkpoint(out)["model"]
    ref = torch.load(tmp_path / "reference.pth", weights_only=True)
    assert torch.equal(ours["context_trunk.conv1.weight"], ref["c"]["0.weight"])
    assert torch.equal(ours["context_trunk.layer3.1.bn2.running_var"], ref["c"]["6.1.bn2.running_var"])
    assert torch.equal(ours["body_trunk.layer4.0.downsample.0.weight"], ref["b"]["7.0.downsample.0.weight"])
    assert torch.equal(ours["fuse.0.weight"], ref["f"]["fc1.weight"])
    assert torch.equal(ours["fuse.1.running_mean"], ref["f"]["bn1.running_mean"])
    assert torch.equal(ours["cat_head.bias"], ref["f"]["fc_cat.bias"])
    with pytest.raises(SystemExit, match="already exists"):
        convert_port.main([str(tmp_path / "models"), str(out)])
    # --mode test and inference run on it (a new run folder is made for the outputs), each reading it once
    from emotic_context import main as emotic_main

    reads, read = [], emotic_main.model_from_checkpoint
    monkeypatch.setattr(emotic_main, "model_from_checkpoint", lambda *a: reads.append(a[0]) or read(*a))
    root, _ = tiny_dataset
    run_dir = tmp_path / "port_run"
    metrics = run_main(["--mode", "test", "--checkpoint", str(out), "--data_path", str(root / "emotic_pre"),
                        "--experiment_path", str(run_dir)])
    assert metrics["mAP_percent"] is not None and (run_dir / "results.json").is_file()
    assert load_results(run_dir / "results.json")["data"] == "demo"  # from demo_data.py's marker
    assert reads == [str(out)]
    photo = shared("data/emotic/sample_photo.png")
    box = json.loads(shared("data/emotic/sample_photo.json").read_text())["body_bbox_x1y1x2y2_approx"]
    listing = tmp_path / "list.txt"
    listing.write_text(f"{photo} {' '.join(str(int(v)) for v in box)}\n")
    run_main(["--mode", "inference", "--checkpoint", str(out), "--experiment_path", str(run_dir),
              "--inference_file", str(listing)])
    assert reads == [str(out)] * 2
    port_line = (run_dir / "inference_list.txt").read_text().splitlines()[0].split()
    assert port_line[0] == str(photo) and len(port_line) >= 4 and all("." in v for v in port_line[-3:])


def test_a_file_naming_another_class_is_refused(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "payload.py").write_text("class Payload:\n    def __init__(self):\n        self.x = 1\n")
    script = ("import torch; from payload import Payload; "
              "[torch.save(Payload(), f'models/{n}') for n in ('model_context1.pth', 'model_body1.pth', "
              "'model_emotic1.pth')]")
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True)
    with pytest.raises(SystemExit, match=r"model_context1\.pth: not one of the port's saved models \(the file names "
                                         r"class payload\.Payload, which is not accepted here\)"):
        convert_port.main([str(tmp_path / "models"), str(tmp_path / "x.pt")])
    assert not (tmp_path / "x.pt").exists()


@pytest.mark.shared_data
def test_real_chance_row(shared):
    """The README's chance row: the label prior as scores on the real test labels (AP of a constant score is the
    category's frequency), and the mean validation VAD as the prediction for every test person."""
    from emotic_context.evaluation import emotic_metrics, prior_baseline

    def labels(split):
        persons = [p for img in _real_split(shared, split) for p in img["persons"]]
        cat = np.stack([[float(c in p["combined_categories"]) for c in CATEGORIES] for p in persons])
        return cat, np.array([p["combined_continuous"] for p in persons])

    (val_cat, val_vad), (test_cat, test_vad) = labels("val"), labels("test")
    scores, vad = prior_baseline(val_cat, val_vad, len(test_cat))
    chance = emotic_metrics(test_cat, scores, test_vad, vad)
    assert chance["mAP_percent"] == pytest.approx(100 * test_cat.mean(0).mean(), abs=1e-6)
    assert chance["mAP_percent"] == pytest.approx(16.98, abs=0.005)
    assert chance["vad_mae"] == pytest.approx(1.059, abs=0.0005)


@pytest.mark.shared_data
def test_demo_labels_follow_the_real_statistics(shared):
    """demo_label_stats.json is the statistics of the real validation annotations (no rows), and the demo's label
    sets drawn from it rank the categories by frequency as the real data do."""
    from scipy.stats import spearmanr

    from emotic_context.demo_data import (
        NUM_PERSON_KINDS,
        NUM_SCENES,
        draw_label_sets,
        label_statistics_from_real,
        load_stats,
    )

    stats = load_stats()
    again = label_statistics_from_real(shared("data/emotic/real_annotations/EMOTIC_val_x1y1x2y2.json"))
    assert {k: v for k, v in again.items() if k != "source"} == {k: v for k, v in stats.items() if k != "source"}
    assert sum(stats["set_size_counts"]) == 3334 and stats["category_counts"]["Engagement"] > 3000
    sets = draw_label_sets(stats, NUM_SCENES * NUM_PERSON_KINDS, np.random.default_rng(0))
    assert all(s["categories"] for s in sets) and all(1 <= v <= 10 for s in sets for v in s["vad"])
    demo = [sum(c in s["categories"] for s in sets) for c in CATEGORIES]
    real = [stats["category_counts"][c] for c in CATEGORIES]
    assert spearmanr(demo, real).statistic > 0.8


def test_csv_drops_persons_whose_image_is_missing_and_from_csv_never_rewrites(tiny_dataset, tmp_path):
    import shutil

    from helpers.emotic import run_mat2py

    from emotic_context.dataset import read_port_csv

    root, _ = tiny_dataset
    data = tmp_path / "EMOTIC"
    shutil.copytree(root, data, ignore=shutil.ignore_patterns("emotic_pre"))
    first = read_port_csv(root / "emotic_pre" / "test.csv")[0]
    (data / "emotic" / first.folder / first.filename).unlink()
    log = run_mat2py(["--data_dir", str(data), "--label", "test"])  # no --generate_npy: the port drops them too
    on_that_image = sum((p.folder, p.filename) == (first.folder, first.filename)
                        for p in read_port_csv(root / "emotic_pre" / "test.csv"))
    assert f"test: {on_that_image} person(s) whose image file is missing" in log
    kept = read_port_csv(data / "emotic_pre" / "test.csv")
    assert all((p.folder, p.filename) != (first.folder, first.filename) for p in kept)
    before = (data / "emotic_pre" / "test.csv").read_bytes()
    (data / "emotic" / kept[0].folder / kept[0].filename).unlink()
    log = run_mat2py(["--data_dir", str(data), "--label", "test", "--from_csv", "--generate_npy",
                      "--context_size", "16", "--body_size", "16"])
    assert "is the input and is left as it is" in log
    assert (data / "emotic_pre" / "test.csv").read_bytes() == before  # the user's CSV is never rewritten
