import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from emotionroi_ex import EMOTIONS
from emotionroi_ex.dataset import EmotionROI, mean_map, read_split
from emotionroi_ex.demo_data import ANNOTATORS, annotator_map, write_demo_dataset
from emotionroi_ex.presets import PairedEvalPreset, PairedTrainPreset


def test_demo_layout_and_determinism(demo_root, tmp_path):
    train, test = read_split(demo_root, "train"), read_split(demo_root, "test")
    assert not set(train) & set(test)
    assert len(train) + len(test) == 6 * 5
    assert {rel.split("/")[0] for rel in test} == set(EMOTIONS)
    for rel in train + test:
        with Image.open(demo_root / "images" / rel) as img, Image.open(demo_root / "ground_truth" / rel) as gt:
            assert img.mode == "RGB" and gt.mode == "L" and img.size == gt.size
    again = write_demo_dataset(tmp_path / "EmotionROI", per_class=5, seed=3, size_range=(48, 64))
    for rel in test:
        assert (again / "images" / rel).read_bytes() == (demo_root / "images" / rel).read_bytes()
        assert (again / "ground_truth" / rel).read_bytes() == (demo_root / "ground_truth" / rel).read_bytes()


def test_annotator_map_is_a_vote_count_around_the_box():
    rng = np.random.default_rng(0)
    m = annotator_map((30, 20, 60, 50), [], 80, 100, rng)
    assert m.dtype == np.uint8
    assert set(np.unique(m).tolist()) <= {round(k * 255 / ANNOTATORS) for k in range(ANNOTATORS + 1)}  # votes x 17
    assert m[35, 45] >= 12 * 17 and m[0, 0] == m[79, 99] == m.min()
    ys, xs = np.nonzero(m > 127)
    assert 15 < xs.mean() < 75 and 20 < ys.mean() < 50


def test_demo_maps_look_like_emotionroi_maps():
    """Real maps are 15 annotators' rectangles summed (steps of 255/15), often on a raised floor (the paper's
    Fig. 6: 16..28 of 255) and not always reaching 255: the demo maps are made the same way, not stretched."""
    rng = np.random.default_rng(1)
    maps = [annotator_map((30, 20, 60, 50), [(5, 5, 20, 15)], 80, 100, rng) for _ in range(200)]
    floors = np.array([m.min() for m in maps])
    peaks = np.array([m.max() for m in maps])
    assert 0.45 < (floors > 0).mean() < 0.75  # 1 - 0.94**15 = 0.60 of the maps have a floor
    assert set(floors.tolist()) <= {0, 17, 34, 51, 68}
    assert 0.1 < (peaks < 255).mean() < 0.9


def test_dataset_items_and_transforms(demo_root):
    ds = EmotionROI(demo_root, "train", PairedTrainPreset(32))
    image, stimuli_map, label, index = ds[0]
    assert image.shape == (3, 32, 32) and stimuli_map.shape == (1, 32, 32)
    assert int(label) == EMOTIONS.index(ds.files[0].split("/")[0])
    raw = EmotionROI(demo_root, "test")
    img, gt, _, _ = raw[1]
    ev = EmotionROI(demo_root, "test", PairedEvalPreset())
    image, stimuli_map, _, _ = ev[1]
    assert image.shape[1:] == img.shape[:2] == stimuli_map.shape[1:]  # native resolution
    assert torch.allclose(stimuli_map[0], torch.from_numpy(gt.astype(np.float32) / 255))
    mm = mean_map(raw, size=16)
    assert mm.shape == (16, 16) and 0 <= mm.min() and mm.max() <= 1


def test_paired_crop_keeps_image_and_map_aligned():
    # left half white in both; after any crop/flip the map must still mark the white pixels
    arr = np.zeros((60, 80, 3), np.uint8)
    arr[:, :40] = 255
    gt = np.zeros((60, 80), np.uint8)
    gt[:, :40] = 200
    preset = PairedTrainPreset(24, scale=(0.3, 0.6), mean=(0, 0, 0), std=(1, 1, 1))
    torch.manual_seed(0)
    for _ in range(10):
        image, stimuli_map = preset(Image.fromarray(arr), Image.fromarray(gt, mode="L"))
        levels = np.unique(stimuli_map.numpy())
        assert np.all(np.isclose(levels, 0) | np.isclose(levels, 200 / 255))  # nearest: no new levels
        white = image[0] > 0.9
        black = image[0] < 0.1
        assert (stimuli_map[0][white] > 0.5).all() and (stimuli_map[0][black] < 0.5).all()


def _copy(demo_root, tmp_path):
    root = tmp_path / "EmotionROI"
    shutil.copytree(demo_root, root)
    return root


@pytest.mark.parametrize("folder,split,position", [("images", "test", 0), ("ground_truth", "train", 2)])
def test_missing_image_or_map_is_named(demo_root, tmp_path, folder, split, position):
    root = _copy(demo_root, tmp_path)
    rel = read_split(root, split)[position]
    (root / folder / rel).unlink()
    with pytest.raises(SystemExit, match=f"{folder}/{rel}: listed in the split file but missing"):
        EmotionROI(root, split)


def test_map_size_mismatch_is_named(demo_root, tmp_path):
    root = _copy(demo_root, tmp_path)
    rel = read_split(root, "test")[0]
    Image.new("L", (7, 9)).save(root / "ground_truth" / rel)
    with pytest.raises(SystemExit, match=r"ground_truth/.*: map is 7x9 but its image is \d+x\d+"):
        EmotionROI(root, "test")


def test_unknown_emotion_folder(demo_root, tmp_path):
    root = _copy(demo_root, tmp_path)
    split = root / "training_testing_split" / "testing.txt"
    split.write_text(split.read_text() + "happiness/1.jpg\n")
    with pytest.raises(SystemExit, match=r"testing.txt: line \d+: unknown emotion folder 'happiness'"):
        EmotionROI(root, "test")
    split.write_text("joy/1.jpg\n")
    # only the split lists decide what is read: an extra folder (a notebook's checkpoints) is ignored
    (root / "images" / ".ipynb_checkpoints").mkdir()
    (root / "images" / ".ipynb_checkpoints" / "1-checkpoint.jpg").write_bytes(b"")
    (root / "ground_truth" / "contempt").mkdir()
    assert EmotionROI(root, "test").files == ["joy/1.jpg"]


def test_image_in_both_lists_is_an_error(demo_root, tmp_path):
    root = _copy(demo_root, tmp_path)
    train_first = read_split(root, "train")[0]
    split = root / "training_testing_split" / "testing.txt"
    split.write_text(split.read_text() + train_first + "\n")
    for name in ("train", "test"):
        with pytest.raises(SystemExit, match=f"{train_first} is listed in both training.txt and testing.txt"):
            EmotionROI(root, name)


def test_missing_layout(tmp_path):
    with pytest.raises(SystemExit, match="images: missing"):
        EmotionROI(tmp_path, "train")
