from __future__ import annotations

import logging
import shutil

import numpy as np
import pytest
import torch

from bodily_tsn.dataset import (
    LABELS,
    VIDEO_SUBDIR,
    EmoReactClips,
    check_data_root,
    face_boxes,
    fill_boxes,
    find_file,
    read_holistic,
    read_openface,
    read_split_csv,
    read_video_frames,
    segment_indices,
    video_info,
)
from bodily_tsn.demo_data import openface_header
from bodily_tsn.masking import draw_surgical_mask
from bodily_tsn.presets import ClipEvalTransform, ClipTrainTransform
from bodily_tsn.tools.frames import decode_all


# --------------------------------------------------------------------------- real files from ../shared
def test_real_openface_csv_parses_and_demo_header_matches(shared, demo_root):
    path = shared("data/samples/OpenFace_Test.csv")
    xs, ys, detected = read_openface(path)
    assert xs.shape == ys.shape == (100, 68)
    assert detected.all()
    assert xs[0, 0] == pytest.approx(277.276)
    boxes = face_boxes(xs, ys, detected, 1280, 720)
    width = xs[0].max() - xs[0].min()
    assert boxes[0, 0] == pytest.approx(xs[0].min() - 0.1 * width)
    assert np.all(boxes[:, 2] > boxes[:, 0]) and np.all(boxes[:, 3] > boxes[:, 1])
    real_header = path.read_bytes().split(b"\r\n")[0].decode()
    assert real_header == ", ".join(openface_header())
    demo_csv = next((demo_root / VIDEO_SUBDIR).glob("*_openface/*.csv"))
    assert demo_csv.read_bytes().split(b"\r\n")[0].decode() == real_header


def test_real_videos_decode_only_sampled_frames_and_seek_matches_sequential(shared):
    single = shared("data/samples/single_face.mp4")
    assert video_info(single) == (72, 640, 360)
    idx = segment_indices(72, 5, train=False)
    frames = read_video_frames(single, idx)
    assert len(frames) == 5 and frames[0].shape == (360, 640, 3) and frames[0].dtype == np.uint8
    long_clip = shared("data/samples/WolfgangLanger_Pexels.mp4")
    count, width, height = video_info(long_clip)
    assert count == 472
    wanted = [471, 120, 300, 300]
    seeked = read_video_frames(long_clip, wanted)  # first wanted frame is far in: seeks
    sequential = read_video_frames(long_clip, wanted, seek_threshold=10**9)
    for a, b in zip(seeked, sequential):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(seeked[0], seeked[1])
    all_frames = list(decode_all(single))
    np.testing.assert_array_equal(frames[2], all_frames[idx[2]])


def test_label_csvs_shipped_match_formats():
    from bodily_tsn.dataset import PACKAGE_DIR

    sizes = {s: len(read_split_csv(PACKAGE_DIR / "EmoReact" / f"{s}.csv")) for s in ("train", "val", "test")}
    assert sizes == {"train": 432, "val": 303, "test": 367}
    train = read_split_csv(PACKAGE_DIR / "EmoReact" / "train.csv")
    assert sum(r.labels.sum() == 0 for r in train) == 62
    assert all(1 <= r.valence <= 7 for r in train)


# --------------------------------------------------------------------------- sampling and boxes
def test_segment_sampling():
    assert segment_indices(20, 5, train=False).tolist() == [2, 6, 10, 14, 18]
    torch.manual_seed(0)
    for _ in range(20):
        idx = segment_indices(20, 5, train=True)
        assert all(4 * k <= i < 4 * (k + 1) for k, i in enumerate(idx))
    assert segment_indices(3, 5, train=False).tolist() == [0, 0, 1, 2, 2]  # fewer frames than segments


def test_missing_boxes_take_nearest_and_none_falls_back_to_full_frame(caplog):
    boxes = np.full((5, 4), np.nan)
    boxes[1] = [1, 1, 2, 2]
    boxes[4] = [4, 4, 5, 5]
    # the original's rule (the default): a frame without landmarks is cropped as the whole frame
    assert np.array_equal(fill_boxes(boxes, 10, 8, "face", "x.csv", "frame"), boxes, equal_nan=True)
    filled = fill_boxes(boxes, 10, 8, "face", "x.csv", "nearest")
    assert filled[:, 0].tolist() == [1, 1, 1, 4, 4]
    logger = logging.getLogger("repro")
    propagate, logger.propagate = logger.propagate, True  # get_logger() turns propagation off
    try:
        with caplog.at_level(logging.WARNING, logger="repro"):
            full = fill_boxes(np.full((3, 4), np.nan), 10, 8, "face", "clip.csv", "nearest")
    finally:
        logger.propagate = propagate
    assert full.tolist() == [[0, 0, 10, 8]] * 3
    assert "clip.csv" in caplog.text and "no face" in caplog.text


# --------------------------------------------------------------------------- crops and transforms
def test_streams_crops_and_shared_augmentation(demo_root):
    fusion = EmoReactClips(demo_root, demo_root / "train.csv", "fusion", 3, train=True,
                           transform=ClipTrainTransform(32, 40), show_progress=False)
    item = fusion[0]
    assert item["frames"].shape == (2, 3, 3, 32, 32)
    assert item["labels"].shape == (len(LABELS),)
    idx = fusion.sample_indices(0)
    crops = fusion.crops(0, idx)
    meta = fusion.clips[0]
    # the body crop has the face blacked out: the face box, relative to the body box, is all zeros
    body, fb, bb = crops["body"][0], meta.face[idx[0]], meta.body[idx[0]]
    y1, x1 = int(np.ceil(fb[1] - np.floor(bb[1]))) + 1, int(np.ceil(fb[0] - np.floor(bb[0]))) + 1
    y2, x2 = int(fb[3] - np.floor(bb[1])) - 1, int(fb[2] - np.floor(bb[0])) - 1
    assert body[max(y1, 0):y2, max(x1, 0):x2].max() == 0
    assert body.max() > 0
    fullbody = EmoReactClips(demo_root, demo_root / "train.csv", "fullbody", 3, show_progress=False)
    assert fullbody.crops(0, idx)["fullbody"][0].reshape(-1, 3).max(1).min() >= 0
    # one random crop / flip per clip, shared by both streams and all frames
    same = np.random.default_rng(0).integers(0, 255, (50, 60, 3), dtype=np.uint8)
    torch.manual_seed(3)
    out = ClipTrainTransform(32, 48)([[same, same], [same, same]])
    assert torch.equal(out[0], out[1]) and torch.equal(out[0, 0], out[0, 1])
    draws = {ClipTrainTransform(32, 48).draw() for _ in range(30)}
    assert len(draws) > 5
    assert ClipEvalTransform(32)([[same]]).shape == (1, 1, 3, 32, 32)


def test_mask_covers_lower_face_only(demo_root):
    ds = EmoReactClips(demo_root, demo_root / "train.csv", "face", 3, source="mp4", show_progress=False)
    meta = ds.clips[0]
    frame = ds.load_frames(meta, [5])[0]
    xs, ys = meta.landmarks[0][5], meta.landmarks[1][5]
    masked = draw_surgical_mask(frame, xs, ys)
    changed = np.abs(masked.astype(int) - frame.astype(int)).sum(2) > 30
    rows = np.flatnonzero(changed.any(1))
    assert rows.min() >= ys[28] - 3 and rows.max() <= ys[8] + 2
    assert changed[int(ys[57]), int(xs[57])]  # lower lip hidden
    assert not changed[int(ys[37]), int(xs[37])] and not changed[int(ys[41]), int(xs[41])]  # eyes visible


# --------------------------------------------------------------------------- bad input
def _copy_root(demo_root, tmp_path):
    root = tmp_path / "EmoReact"
    shutil.copytree(demo_root, root)
    return root


def test_bad_input_errors_name_the_file(demo_root, tmp_path):
    root = _copy_root(demo_root, tmp_path)
    first = read_split_csv(root / "test.csv")[1]
    video = root / VIDEO_SUBDIR / first.video
    csv_path = root / VIDEO_SUBDIR / f"{first.video}_openface" / f"{first.stem}.csv"
    csv_path.write_text("frame, success, x_0\n1, 1, 3\n")
    with pytest.raises(SystemExit, match="missing OpenFace column"):
        EmoReactClips(root, root / "test.csv", "face", 3, show_progress=False)
    skipping = EmoReactClips(root, root / "test.csv", "face", 3, skip_bad=True, show_progress=False)
    assert len(skipping) == 3 and len(skipping.skipped) == 1
    video.write_bytes(b"")
    with pytest.raises(SystemExit, match=f"{video.name}: unreadable video"):
        EmoReactClips(root, root / "test.csv", "fullbody", 3, source="mp4", show_progress=False)
    video.unlink()
    with pytest.raises(SystemExit, match=f"{video.name}: video file not found"):
        EmoReactClips(root, root / "test.csv", "fullbody", 3, source="mp4", show_progress=False)
    with pytest.raises(SystemExit, match="no EmoReact data at .*demo_data"):
        check_data_root(tmp_path / "nowhere")
    with pytest.raises(SystemExit, match=r"--mask reads the authors' masked frames .*Data_mask/Test_mask.*--draw_mask"):
        EmoReactClips(root, root / "test.csv", "face", 3, mask=True, source="mp4", show_progress=False)


def test_short_openface_and_pose_files_clamp_to_their_last_row(demo_root, tmp_path, caplog):
    """As the original (dataset.py:131-132): frames past a file's end use its last row; counted in the log."""
    root = _copy_root(demo_root, tmp_path)
    first = read_split_csv(root / "test.csv")[1]
    csv_path = root / VIDEO_SUBDIR / f"{first.video}_openface" / f"{first.stem}.csv"
    lines = csv_path.read_bytes().split(b"\r\n")
    csv_path.write_bytes(b"\r\n".join(lines[:5]) + b"\r\n")  # 4 landmark rows for 20 frames
    hol = root / "Holistic" / f"{first.stem}_hol.txt"
    pose = hol.read_text().splitlines()[:20]
    hol.write_text("\n".join(pose[:15]) + "\n")  # a pose section of 15 lines, no hand sections
    logger = logging.getLogger("repro")
    propagate, logger.propagate = logger.propagate, True
    try:
        with caplog.at_level(logging.INFO, logger="repro"):
            ds = EmoReactClips(root, root / "test.csv", "fusion", 3, show_progress=False)
    finally:
        logger.propagate = propagate
    assert ds.clamped == {"openface": 16, "holistic": 5}
    meta = ds.clips[1]
    assert np.array_equal(meta.face[4:], np.repeat(meta.face[3:4], 16, axis=0), equal_nan=True)
    assert np.array_equal(meta.body[15:], np.repeat(meta.body[14:15], 5, axis=0), equal_nan=True)
    assert "16 frame(s) past the end of their openface file" in caplog.text


def test_holistic_file_pose_section_only(tmp_path):
    """prepare_hol_txt.py writes N pose lines, then N left-hand and N right-hand lines: only pose is the body."""
    path = tmp_path / "clip_hol.txt"
    pose = ["0.40 0.20 0.60 0.80", "", "0.45 0.25 0.55 0.75"]
    hands = ["0.01 0.01 0.02 0.02"] * 6
    path.write_text("\n".join(pose + hands) + "\n")
    points = read_holistic(path, num_frames=3)
    assert len(points) == 3 and points[1].shape == (0, 2)
    assert points[2].tolist() == [[0.45, 0.25], [0.55, 0.75]]
    # a clip longer than its pose section: the section is still 3 lines, never a hand line
    assert len(read_holistic(path, num_frames=4)) == 3
    path.write_text("\n".join(pose + hands[:3]) + "\n")  # pose + one hand section
    assert len(read_holistic(path, num_frames=3)) == 3


def test_original_frame_layout_plain_masked_and_apostrophe_names(demo_root):
    """Data{_mask}/{Train,Validation,Test}{_mask}/<stem>{_mask}_frames_full/%06d.jpg, as the original reads
    (dataset.py:236-241); the first demo clip's files are spelled with an apostrophe its CSV row drops."""
    record = read_split_csv(demo_root / "test.csv")[0]
    assert "'" not in record.video
    on_disk = find_file(demo_root / VIDEO_SUBDIR, record.video)
    assert on_disk.is_file() and "'" in on_disk.name
    plain = EmoReactClips(demo_root, demo_root / "test.csv", "face", 3, split="test", show_progress=False)
    masked = EmoReactClips(demo_root, demo_root / "test.csv", "face", 3, split="test", mask=True,
                           show_progress=False)
    assert plain.source == masked.source == "original"
    assert plain.clips[0].frames_folder.parent.name == "Test"
    masked_folder = masked.clips[0].frames_folder.name
    assert masked_folder.endswith("_mask_frames_full") and "'" in masked_folder
    idx = np.array([5])
    a, b = plain.load_frames(plain.clips[0], idx)[0], masked.load_frames(masked.clips[0], idx)[0]
    xs, ys = plain.clips[0].landmarks[0][5], plain.clips[0].landmarks[1][5]
    mouth = (int(ys[57]), int(xs[57]))
    assert np.abs(a[mouth].astype(int) - b[mouth].astype(int)).sum() > 60  # the authors' mask hides the mouth
    eye = (int(ys[37]), int(xs[37]))
    assert np.abs(a[eye].astype(int) - b[eye].astype(int)).sum() < 30
    # the same frames as the mp4 (JPEG-close)
    mp4 = EmoReactClips(demo_root, demo_root / "test.csv", "face", 3, split="test", source="mp4", show_progress=False)
    c = mp4.load_frames(mp4.clips[0], idx)[0]
    assert np.abs(a.astype(int) - c.astype(int)).mean() < 3


def test_mask_geometry_on_real_openface_landmarks(shared):
    xs, ys, _ = read_openface(shared("data/samples/OpenFace_Test.csv"))
    canvas = np.zeros((360, 640, 3), np.uint8)
    for frame in (0, 50, 99):
        covered = draw_surgical_mask(canvas, xs[frame], ys[frame]).any(2)
        mouth_and_chin = [*range(48, 68), 8, 33]
        assert all(covered[int(round(ys[frame, i])), int(round(xs[frame, i]))] for i in mouth_and_chin)
        assert not any(covered[int(round(ys[frame, i])), int(round(xs[frame, i]))] for i in range(36, 48))  # eyes
