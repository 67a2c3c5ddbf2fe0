"""Annotations.mat reading (exact struct nesting, both squeeze settings), port CSVs, mat2py, the streamed cache."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
import scipy.io as sio
from helpers.emotic import run_mat2py
from PIL import Image

from emotic_context.dataset import (
    PORT_CSV_COLUMNS,
    EmoticCacheDataset,
    EmoticImageDataset,
    load_annotations_mat,
    read_port_csv,
    write_cache,
    write_port_csv,
)
from emotic_context.demo_data import make_split, write_annotations_mat
from emotic_context.presets import stream_transforms

NAN = float("nan")


def _train_person(bbox, cats, vad):
    return {"bbox": bbox, "annotators": [(cats, vad)], "gender": "Male", "age": "Adult"}


def _test_person(bbox, annotators, combined, combined_vad):
    return {"bbox": bbox, "annotators": annotators, "combined_categories": combined,
            "combined_continuous": combined_vad, "gender": "Female", "age": "Kid"}


@pytest.fixture
def handmade_mat(tmp_path):
    splits = {
        "train": [
            {"filename": "a.jpg", "folder": "mscoco/images", "width": 100, "height": 80, "persons": [
                _train_person([-5, 3, 130, 95], ["Happiness", "Engagement"], (6.0, 5.0, 7.0)),  # clamped
                _train_person([10, 10, 40, 40], [], (5.0, 5.0, 5.0)),  # no category: kept, as the port
            ]},
            {"filename": "b.jpg", "folder": "ade20k/images", "width": 60, "height": 50, "persons": [
                _train_person([1, 2, 30, 40], ["Fear"], (2.0, NAN, 3.0)),  # NaN arousal: dropped
                _train_person([1.7, 2.2, 30.9, 40.5], ["Fear", "Pain"], (2.0, 8.0, 3.0)),
            ]},
        ],
        "val": [
            {"filename": "c.jpg", "folder": "framesdb/images", "width": 90, "height": 70, "persons": [
                _test_person([0, 0, 50, 60], [(["Peace"], (7.0, 3.0, 6.0)), (["Peace", "Pleasure"], (8.0, 4.0, 6.0)),
                                              (["Pleasure"], (6.0, 2.0, 5.0))],
                             ["Peace", "Pleasure"], (7.0, 3.0, 17 / 3)),
                _test_person([5, 5, 20, 20], [(["Anger"], (2.0, 8.0, 6.0))], ["Anger"], (NAN, 8.0, 6.0)),
            ]},
        ],
        "test": [
            {"filename": "d.jpg", "folder": "emodb_small/images", "width": 64, "height": 64, "persons": [
                _test_person([2, 2, 30, 60], [([], (5.0, 5.0, 5.0)), ([], (5.0, 5.0, 5.0))], [], (5.0, 5.0, 5.0)),
            ]},
        ],
    }
    path = tmp_path / "Annotations" / "Annotations.mat"
    write_annotations_mat(path, splits)
    return path


def test_fixture_has_the_official_nesting(handmade_mat):
    mat = sio.loadmat(str(handmade_mat))
    assert mat["train"].shape == (1, 2) and mat["val"].shape == (1, 1)
    assert mat["train"].dtype.names == ("filename", "folder", "image_size", "original_database", "person")
    image = mat["train"][0, 0]
    assert str(image["filename"][0]) == "a.jpg" and str(image["folder"][0]) == "mscoco/images"
    assert image["image_size"].dtype.names == ("n_col", "n_row")
    assert image["image_size"][0, 0]["n_col"][0, 0] == 100
    assert image["original_database"].dtype.names == ("name", "info")
    person = image["person"]
    assert person.shape == (1, 2)
    assert person.dtype.names == ("body_bbox", "annotations_categories", "annotations_continuous", "gender", "age")
    assert person[0, 0]["annotations_categories"].dtype.names == ("categories",)
    assert person[0, 0]["annotations_continuous"].dtype.names == ("valence", "arousal", "dominance")
    val_person = mat["val"][0, 0]["person"]
    assert val_person.dtype.names == ("body_bbox", "annotations_categories", "combined_categories",
                                      "annotations_continuous", "combined_continuous", "gender", "age")
    assert val_person[0, 0]["annotations_categories"].shape == (1, 3)  # one struct per annotator
    assert val_person[0, 0]["annotations_continuous"].shape == (1, 3)


@pytest.mark.parametrize("squeeze_me", [False, True])
def test_reader_clamps_drops_and_uses_combined_labels(handmade_mat, squeeze_me):
    data = load_annotations_mat(handmade_mat, squeeze_me=squeeze_me)
    train, train_dropped = data["train"]
    assert [p.bbox for p in train] == [(0, 3, 100, 80), (10, 10, 40, 40), (1, 2, 30, 40)]
    assert train[0].categories == ["Happiness", "Engagement"] and train[0].continuous == (6.0, 5.0, 7.0)
    assert train[0].image_size == (100, 80) and train[0].relative_path == "mscoco/images/a.jpg"
    # the port keeps a person with no category (all-zero labels) and drops a NaN valence/arousal/dominance
    assert train[1].categories == [] and not train[1].multi_hot().any()
    assert dict(train_dropped) == {"NaN valence/arousal/dominance": 1}
    val, val_dropped = data["val"]
    assert len(val) == 1 and val[0].categories == ["Peace", "Pleasure"] and val[0].annotators == 3
    assert val[0].annotator_categories == [["Peace"], ["Peace", "Pleasure"], ["Pleasure"]]
    assert math.isclose(val[0].continuous[2], 17 / 3)
    assert dict(val_dropped) == {"NaN valence/arousal/dominance": 1}
    test, test_dropped = data["test"]  # two annotators, an empty combined_categories: kept, as the port
    assert len(test) == 1 and test[0].categories == [] and not test_dropped
    dropping = load_annotations_mat(handmade_mat, squeeze_me=squeeze_me, drop_no_category=True)
    assert len(dropping["train"][0]) == 2 and dropping["test"][0] == []
    assert dropping["test"][1] == {"no categories (--drop_no_category)": 1}


def test_missing_or_broken_annotation_file_is_one_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="Annotations.mat: annotation file not found"):
        load_annotations_mat(tmp_path / "Annotations.mat")
    bad = tmp_path / "bad.mat"
    bad.write_bytes(b"not a mat file at all")
    with pytest.raises(SystemExit, match="bad.mat: not a readable MATLAB file"):
        load_annotations_mat(bad)


def test_port_csv_round_trip(handmade_mat, tmp_path):
    persons, _ = load_annotations_mat(handmade_mat)["train"]
    path = write_port_csv(tmp_path / "train.csv", persons)
    assert path.read_text().splitlines()[0] == ",".join(PORT_CSV_COLUMNS)
    assert '"[0, 3, 100, 80]"' in path.read_text() and "\"['Happiness', 'Engagement']\"" in path.read_text()
    again = read_port_csv(path)
    assert [(p.folder, p.filename, p.image_size, p.bbox, p.categories, p.continuous) for p in again] == \
        [(p.folder, p.filename, p.image_size, p.bbox, p.categories, p.continuous) for p in persons]
    bad = tmp_path / "bad.csv"
    bad.write_text(path.read_text().replace("['Fear', 'Pain']", "['Fear', 'Pian']"))
    with pytest.raises(SystemExit, match="bad.csv: line 4: unknown EMOTIC category 'Pian'"):
        read_port_csv(bad)


def test_mat2py_reports_drops_and_csv_input_gives_the_same_cache(tiny_dataset, tmp_path):
    root, log = tiny_dataset
    assert "train: kept" in log and "dropped" in log
    kept, dropped = load_annotations_mat(root / "Annotations" / "Annotations.mat")["train"]
    assert f"train: kept {len(kept)} persons; dropped {sum(dropped.values())}" in log
    context = np.load(root / "emotic_pre" / "train_context_arr.npy")
    assert context.shape == (len(kept), 32, 32, 3) and context.dtype == np.uint8
    cat = np.load(root / "emotic_pre" / "train_cat_arr.npy")
    assert np.array_equal(cat, np.stack([p.multi_hot() for p in kept]))
    # The port's CSVs as input: same cache.
    run_mat2py(["--data_dir", str(root), "--from_csv", "--csv_dir", str(root / "emotic_pre"), "--save_dir",
                str(tmp_path / "from_csv"), "--label", "train", "--generate_npy", "--context_size", "32",
                "--body_size", "32"])
    for name in ("context", "body", "cat", "cont", "bbox"):
        assert np.array_equal(np.load(tmp_path / "from_csv" / f"train_{name}_arr.npy"),
                              np.load(root / "emotic_pre" / f"train_{name}_arr.npy")), name


def test_on_the_fly_images_match_the_cache(tiny_dataset):
    root, _ = tiny_dataset
    persons = read_port_csv(root / "emotic_pre" / "val.csv")
    context_tf, body_tf = stream_transforms(train=False)
    for mask in (False, True):
        cached = EmoticCacheDataset(root / "emotic_pre", "val", context_tf, body_tf, mask_body=mask)
        live = EmoticImageDataset(persons, root / "emotic", context_tf, body_tf, 32, 32, mask_body=mask)
        assert len(cached) == len(live) == len(persons)
        for i in (0, len(persons) - 1):
            for a, b in zip(cached[i], live[i]):
                assert torch_equal(a, b)
    masked = EmoticCacheDataset(root / "emotic_pre", "val", context_tf, body_tf, mask_body=True)[0][0]
    plain = EmoticCacheDataset(root / "emotic_pre", "val", context_tf, body_tf)[0][0]
    assert not torch_equal(masked, plain)


def torch_equal(a, b) -> bool:
    import torch

    return bool(torch.equal(a, b))


def _layout(tmp_path, persons: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    images = make_split(rng, "train", persons, tmp_path / "emotic", drop_fraction=0.0)
    write_annotations_mat(tmp_path / "Annotations" / "Annotations.mat", {"train": images})
    return load_annotations_mat(tmp_path / "Annotations" / "Annotations.mat", ["train"])["train"][0]


def test_cache_peak_memory_does_not_grow_with_the_number_of_images(tmp_path):
    peaks = {}
    for n in (15, 90):
        folder = tmp_path / f"n{n}"
        persons = _layout(folder, n)
        tracemalloc.start()
        write_cache(persons, folder / "emotic", folder / "cache", "train")  # the port's 224/128 sizes
        peaks[n] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert np.load(folder / "cache" / "train_context_arr.npy", mmap_mode="r").shape == (len(persons), 224, 224, 3)
    # Six times the persons (~26 MB more of arrays): the peak stays within a small margin.
    assert peaks[90] < peaks[15] * 1.3 + 2e6, peaks


def test_broken_image_leaves_no_partial_cache(tmp_path):
    persons = _layout(tmp_path, 6)
    Image.new("RGB", (4, 4)).save(tmp_path / "emotic" / persons[-1].relative_path)  # fine
    (tmp_path / "emotic" / persons[-1].relative_path).write_bytes(b"\xff\xd8 truncated")
    with pytest.raises(SystemExit, match=f"cannot read image .*{persons[-1].filename}"):
        write_cache(persons, tmp_path / "emotic", tmp_path / "cache", "train", 32, 32)
    assert list((tmp_path / "cache").iterdir()) == []


def test_images_unpacked_one_folder_too_high_is_one_error_and_no_cache(tiny_dataset, tmp_path):
    """The archive's folders (mscoco/, framesdb/, ...) next to Annotations/ instead of inside emotic/."""
    import shutil

    root, _ = tiny_dataset
    wrong = tmp_path / "EMOTIC"
    shutil.copytree(root / "Annotations", wrong / "Annotations")
    for folder in (root / "emotic").iterdir():
        shutil.copytree(folder, wrong / folder.name)
    with pytest.raises(SystemExit, match=r"none of the \d+ annotated images is where .*nothing was written"):
        run_mat2py(["--data_dir", str(wrong), "--generate_npy"])
    assert not (wrong / "emotic_pre").exists()
