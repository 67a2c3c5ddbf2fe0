"""Readers: FER2013 CSV and folders, FER+, RAF-DB, generic folders; bad input named; split protocol."""

from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest
import torch

from fer_seresnet.dataset import (
    CLASS_NAMES,
    FERPLUS_VOTE_COLUMNS,
    RAFDB_TO_FER,
    FaceSplit,
    FaceTensorDataset,
    collate_batch,
    describe_counts,
    ferplus_labels,
    load_dataset,
    read_class_folders,
    read_fer2013_csv,
    read_fer2013_folders,
    read_ferplus,
    read_rafdb,
    train_duplicates,
    train_val_test,
)
from shared_utils.splits import stratified_holdout


def _write_csv(path, rows):
    with path.open("w", newline="") as handle:
        handle.write("emotion,pixels,Usage\n")
        for label, pixels, usage in rows:
            handle.write(f"{label},{pixels},{usage}\n")
    return path


def _pixels(value):
    return " ".join([str(value)] * 2304)


def test_csv_splits_and_pixels(tmp_path):
    ramp = " ".join(str(i % 256) for i in range(2304))
    path = _write_csv(tmp_path / "fer2013.csv", [(3, ramp, "Training"), (0, _pixels(7), "PublicTest"),
                                                   (6, _pixels(255), "PrivateTest"), (5, _pixels(0), "Training")])
    data = read_fer2013_csv(path)
    assert set(data.splits) == {"train", "public_test", "private_test"}
    train = data.splits["train"]
    assert train.images.dtype == torch.uint8 and train.images.shape == (2, 48, 48)
    assert train.labels.tolist() == [3, 5]
    assert train.images[0].flatten()[:300].tolist() == [i % 256 for i in range(300)]
    assert data.splits["private_test"].images.max() == 255 and data.splits["public_test"].labels.tolist() == [0]


@pytest.mark.parametrize("row, problem", [
    ((1, " ".join(["1"] * 2303), "Training"), "expected 2304 pixel values, got 2303"),
    ((1, _pixels(3).replace("3", "x", 1), "Training"), "non-numeric pixel value 'x'"),
    ((7, _pixels(3), "Training"), "unknown emotion label '7'"),
    ((2, _pixels(3), "Validation"), "unknown Usage 'Validation'"),
])
def test_bad_csv_row_names_line_or_is_skipped(tmp_path, row, problem):
    path = _write_csv(tmp_path / "bad.csv", [(0, _pixels(1), "Training"), row, (4, _pixels(2), "Training")])
    with pytest.raises(SystemExit) as info:
        read_fer2013_csv(path)
    message = str(info.value)
    assert message.startswith(f"error: {path}: line 3: {problem}"), message
    data = read_fer2013_csv(path, skip_bad_rows=True)
    assert data.stats["bad_rows"] == 1
    assert data.splits["train"].labels.tolist() == [0, 4]


def test_folder_layout_prefixes_and_matches_csv(demo_root):
    from_csv = read_fer2013_csv(demo_root / "fer2013" / "fer2013.csv")
    from_folders = read_fer2013_folders(demo_root / "fer2013")
    # test/ holds PublicTest_ and PrivateTest_ files: the split comes from the prefix, not the folder.
    assert set(from_folders.splits) == {"train", "public_test", "private_test"}
    for split in ("train", "public_test", "private_test"):
        a, b = from_csv.splits[split], from_folders.splits[split]
        assert len(a) == len(b)
        for label in range(7):
            # Files are named by CSV row, so within a class folder they come in CSV order; JPEG is lossy.
            xa = a.images[a.labels == label].float()
            xb = b.images[b.labels == label].float()
            assert (xa - xb).abs().mean() < 3.0
    # A folder holding fer2013.csv is read as the CSV.
    assert len(load_dataset("fer2013", demo_root / "fer2013").splits["train"]) == 420


def test_missing_empty_and_unreadable_are_named(tmp_path, demo_root):
    root = tmp_path / "train"
    for name in CLASS_NAMES[:-1]:
        (root / name).mkdir(parents=True)
        cv2.imwrite(str(root / name / "Training_1.jpg"), np.zeros((48, 48), np.uint8))
    with pytest.raises(SystemExit, match="missing class folder\\(s\\): neutral"):
        read_class_folders(root)
    (root / "neutral").mkdir()
    with pytest.raises(SystemExit, match=f"{root / 'neutral'}: class folder holds no images"):
        read_class_folders(root)
    (root / "neutral" / "Training_2.jpg").write_bytes(b"not a jpeg")
    unreadable = root / "neutral" / "Training_2.jpg"
    with pytest.raises(SystemExit, match=f"cannot read image {unreadable}: OpenCV could not decode it"):
        read_class_folders(root)
    with pytest.raises(SystemExit, match="no such file or folder"):
        load_dataset("fer2013", tmp_path / "nowhere")


def test_ferplus_majority_soft_and_not_face(demo_root):
    data = read_ferplus(demo_root / "fer2013" / "fer2013.csv", demo_root / "ferplus" / "fer2013new.csv")
    # Demo votes: every 40th row (global row index) is not a face; elsewhere >= 6 of 10 votes go to the drawn
    # class, so the FER+ majority must equal the FER2013 label of the kept rows.
    assert data.stats["not_face"] == 17 and data.stats["no_fer_class"] == 0
    fer = read_fer2013_csv(demo_root / "fer2013" / "fer2013.csv")
    offset = 0
    for name in ("train", "public_test", "private_test"):
        rows = np.arange(offset, offset + len(fer.splits[name]))
        keep = rows % 40 != 39
        offset += len(rows)
        split = data.splits[name]
        assert split.labels.tolist() == fer.splits[name].labels[torch.from_numpy(keep)].tolist()
        assert torch.equal(split.images, fer.splits[name].images[torch.from_numpy(keep)])
        assert torch.allclose(split.soft.sum(1), torch.ones(len(split)))
        assert torch.equal(split.labels, split.soft.argmax(1))


def test_ferplus_column_mapping(tmp_path):
    rows = [(0, _pixels(1), "Training"), (0, _pixels(2), "Training"), (0, _pixels(3), "Training")]
    fer_csv = _write_csv(tmp_path / "fer2013.csv", rows)
    plus = tmp_path / "fer2013new.csv"
    with plus.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["Usage", "Image name", "neutral", "happiness", "surprise", "sadness", "anger", "disgust",
                         "fear", "contempt", "unknown", "NF"])
        writer.writerow(["Training", "fer0000000.png", 0, 7, 3, 0, 0, 0, 0, 0, 0, 0])  # happy (3), some surprise
        writer.writerow(["Training", "", 0, 0, 0, 0, 0, 0, 0, 0, 0, 10])  # not a face
        writer.writerow(["Training", "fer0000002.png", 1, 0, 0, 0, 0, 0, 0, 9, 0, 0])  # contempt majority
    data = read_ferplus(fer_csv, plus)
    split = data.splits["train"]
    assert split.labels.tolist() == [3]
    # FERPlus's majority mode keeps the majority emotion only (a one-hot target); its crossentropy mode keeps the
    # top emotions holding 75 % of the votes
    assert split.soft[0].tolist() == pytest.approx([0, 0, 0, 1, 0, 0, 0])
    assert data.stats == {"not_face": 1, "no_fer_class": 1, "bad_rows": 0}
    assert split.images[0].max() == 1  # row 0's pixels, not row 2's
    soft = read_ferplus(fer_csv, plus, mode="crossentropy").splits["train"]
    assert soft.soft[0].tolist() == pytest.approx([0, 0, 0, 0.7, 0, 0.3, 0])
    eight = read_ferplus(fer_csv, plus, classes=8)
    assert eight.class_names[-1] == "contempt" and eight.splits["train"].labels.tolist() == [3, 7]


def test_ferplus_rules_as_ferplus_makes_them():
    """microsoft/FERPlus src/ferplus.py _process_data: single votes removed first, then a strict majority."""
    votes = lambda **kw: [kw.get(c, 0) for c in FERPLUS_VOTE_COLUMNS]  # noqa: E731
    assert ferplus_labels(votes(happiness=5, surprise=4, anger=1))[0] == 3  # the single anger vote is dropped: 5/9
    assert ferplus_labels(votes(happiness=5, surprise=5)) is None  # no strict majority: unknown, dropped
    assert ferplus_labels(votes(unknown=6, happiness=4)) is None  # unknown: dropped
    assert ferplus_labels(votes(contempt=6, neutral=4)) is None  # contempt with 7 classes: dropped
    assert ferplus_labels(votes(contempt=6, neutral=4), classes=8)[0] == 7
    label, dist = ferplus_labels(votes(neutral=5, sadness=3, anger=2), "probability")
    # neutral 5 + sadness 3 reach 75 % of the 10 votes: the 2 anger votes are left out
    assert label == 6 and dist.tolist() == pytest.approx([0, 0, 0, 0, 0.375, 0, 0.625])


def test_rafdb_labels_mapped_to_fer_order(demo_root):
    root = demo_root / "rafdb" / "basic"
    data = read_rafdb(root)
    lines = (root / "EmoLabel" / "list_patition_label.txt").read_text().split("\n")
    test_lines = [line for line in lines if line.startswith("test")]
    expected = [RAFDB_TO_FER[int(line.split()[1])] for line in test_lines]
    assert data.splits["test"].labels.tolist() == expected
    assert data.splits["test"].images.shape[1:] == (48, 48)
    assert RAFDB_TO_FER == {1: 5, 2: 2, 3: 1, 4: 3, 5: 4, 6: 0, 7: 6}
    (root / "Image" / "aligned" / "test_0001_aligned.jpg").rename(root / "moved.jpg")
    try:
        with pytest.raises(SystemExit, match="test_0001_aligned.jpg: listed in .* line"):
            read_rafdb(root)
    finally:
        (root / "moved.jpg").rename(root / "Image" / "aligned" / "test_0001_aligned.jpg")


def test_split_protocol(demo_root):
    data = read_fer2013_csv(demo_root / "fer2013" / "fer2013.csv")
    train, val, test, val_name, test_name = train_val_test(data)
    assert (val_name, test_name) == ("public_test", "private_test")
    del data.splits["private_test"]
    train, val, test, val_name, test_name = train_val_test(data, holdout_fraction=0.1, seed=3)
    assert (val_name, test_name) == ("train_holdout", "public_test")
    assert len(train) + len(val) == 420 and len(val) == 42
    assert np.bincount(val.labels.numpy(), minlength=7).tolist() == [6] * 7  # stratified
    a_train, a_val = stratified_holdout(data.splits["train"].labels.numpy(), 0.1, 3)
    assert not set(a_train) & set(a_val)
    b_train, b_val = stratified_holdout(data.splits["train"].labels.numpy(), 0.1, 3)
    assert np.array_equal(a_val, b_val)


def test_batched_getitems(demo_root):
    data = read_fer2013_csv(demo_root / "fer2013" / "fer2013.csv")
    dataset = FaceTensorDataset(data.splits["train"])
    batch = collate_batch(dataset.__getitems__([5, 1, 9]))
    assert batch["image"].shape == (3, 48, 48)
    assert batch["label"].tolist() == data.splits["train"].labels[[5, 1, 9]].tolist()
    single = collate_batch([dataset[2], dataset[4]])
    assert single["index"].tolist() == [2, 4]


def test_real_fer2013_csv_rows(shared):
    path = shared("data/fer2013/fer2013_original_first1167rows.csv")
    data = read_fer2013_csv(path)
    import pandas as pd

    frame = pd.read_csv(path)
    assert len(data.splits["train"]) == int((frame["Usage"] == "Training").sum()) == 1167
    assert data.splits["train"].labels.tolist() == frame["emotion"].tolist()
    first = np.array(frame["pixels"][0].split(), dtype=np.uint8).reshape(48, 48)
    assert np.array_equal(data.splits["train"].images[0].numpy(), first)


def test_real_ferplus_alignment(shared):
    fer_csv = shared("data/fer2013/fer2013_original_first1167rows.csv")
    plus = shared("data/ferplus/fer2013new.csv")
    import pandas as pd

    votes = pd.read_csv(plus).iloc[:1167]
    data = read_ferplus(fer_csv, plus)
    assert data.stats["not_face"] == int(votes["Image name"].isna().sum())
    assert len(data.splits["train"]) + data.stats["not_face"] + data.stats["no_fer_class"] == 1167


@pytest.mark.shared_data
@pytest.mark.parametrize("classes, expected", [(7, {"Training": 24941, "PublicTest": 3186, "PrivateTest": 3137}),
                                               (8, {"Training": 25060, "PublicTest": 3199, "PrivateTest": 3153})])
def test_real_ferplus_counts_by_ferplus_rules(shared, classes, expected, capsys):
    """The rows FERPlus's majority rule keeps in the real fer2013new.csv, per Usage split (no pixels needed)."""
    from fer_seresnet.dataset import main as dataset_main

    names, counts = describe_counts("ferplus", ferplus_csv=shared("data/ferplus/fer2013new.csv"),
                                    ferplus_classes=classes)
    assert len(names) == classes and {k: int(v.sum()) for k, v in counts.items()} == expected
    dataset_main(["describe", "--dataset", "ferplus", "--ferplus-csv", str(shared("data/ferplus/fer2013new.csv")),
                  "--ferplus-mode", "majority", "--ferplus-classes", str(classes)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[:2] == ["Training", str(expected["Training"])]


def test_train_duplicates_are_found_with_their_labels():
    images = torch.arange(5 * 4, dtype=torch.uint8).view(5, 2, 2)
    train = FaceSplit(images[:3], torch.tensor([0, 1, 2]))
    test = FaceSplit(torch.stack([images[0], images[4], images[2]]), torch.tensor([0, 3, 5]))
    duplicate, other_label = train_duplicates(test, train)
    assert duplicate.tolist() == [True, False, True] and other_label.tolist() == [False, False, True]


@pytest.mark.shared_data
def test_real_public_test_duplicates_of_training(shared, tmp_path):
    """280 PublicTest images have an exact pixel copy in Training; 7 of them carry a label none of their copies has."""
    import tarfile

    with tarfile.open(shared("data/fer2013/fer2013_msambare_train_publictest.tar.gz")) as tar:
        tar.extractall(tmp_path, filter="data")
    data = load_dataset("fer2013", tmp_path)
    duplicate, other_label = train_duplicates(data.splits["public_test"], data.splits["train"])
    assert int(duplicate.sum()) == 280 and int(other_label.sum()) == 7
