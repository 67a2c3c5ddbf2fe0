"""A small synthetic EmoReact in the official layout, for demos and tests (deterministic).

    python -m bodily_tsn.demo_data --out data/EmoReact_demo [--train 48 --val 24 --test 24]

Each clip is an H.264 mp4 of a drawn child-like figure (head with eyes, brows and mouth; torso;
two animated arms), with a matching OpenFace 2.x CSV (the real 431-column header, ", " separated,
CRLF lines, pixel landmarks placed on the drawn face), a MediaPipe Holistic text file as the original's
``prepare_hol_txt.py`` writes it (N pose lines, then N left-hand and N right-hand lines, normalised), and
the frames the original trains on: ``Data/{Train,Validation,Test}/<stem>_frames_full/%06d.jpg`` and the
masked-face copies ``Data_mask/{Train,Validation,Test}_mask/<stem>_mask_frames_full/%06d.jpg``. The first
clip of each split keeps an apostrophe in its file names that its CSV row drops, as official EmoReact
names do (``80'sTOYS105_2.mp4``). Labels are learnable from the face or the body:

- Happiness: a wide smile; Surprise: an open round mouth and raised brows (face);
- Excitement: arms waving fast; Frustration: arms crossed over the torso (body);
- Curiosity: the whole figure leans and drifts sideways over the clip (body motion);
- Uncertainty, Disgust, Fear: drawn at random, independent of the pictures (nothing to learn: AUC ~0.5).

Some frames have no face (OpenFace ``success`` 0) or no pose (empty line), as in real output.
Valence follows Happiness - Frustration plus noise, in 1..7. ``DEMO_DATA.txt`` marks the folder.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from bodily_tsn.options import demo_data_parser
from shared_utils.cli import answer_help_first

answer_help_first(demo_data_parser, __name__)

import io
from pathlib import Path

import av
import cv2
import numpy as np
import pandas as pd
from PIL import Image

from bodily_tsn.dataset import HOLISTIC_SUBDIR, LABELS, SPLIT_FOLDERS, VIDEO_SUBDIR
from bodily_tsn.masking import draw_surgical_mask
from shared_utils.files import DEMO_MARKER, atomic_write, atomic_write_text, claim_output_folder
from shared_utils.runtime import progress

WIDTH, HEIGHT, FPS, NUM_FRAMES = 160, 120, 10, 20


def openface_header() -> list[str]:
    """The column names of OpenFace 2.x's FeatureExtraction CSV, as in the real sample."""
    cols = ["frame", "timestamp", "confidence", "success"]
    cols += [f"gaze_{e}_{a}" for e in (0, 1) for a in "xyz"]
    cols += ["pose_Tx", "pose_Ty", "pose_Tz", "pose_Rx", "pose_Ry", "pose_Rz"]
    for prefix in ("x", "y", "X", "Y", "Z"):
        cols += [f"{prefix}_{i}" for i in range(68)]
    cols += ["p_scale", "p_rx", "p_ry", "p_rz", "p_tx", "p_ty"] + [f"p_{i}" for i in range(34)]
    aus_r = ["01", "02", "04", "05", "06", "07", "09", "10", "12", "14", "15", "17", "20", "23", "25", "26", "45"]
    aus_c = aus_r[:-1] + ["28", "45"]
    cols += [f"AU{a}_r" for a in aus_r] + [f"AU{a}_c" for a in aus_c]
    return cols


def face_landmarks(cx: float, cy: float, r: float, smile: bool, surprise: bool) -> np.ndarray:
    """68 (x, y) points in OpenFace / iBUG order for a round face centred at (cx, cy)."""
    pts = []
    for k in range(17):  # jaw: left ear level, down through the chin (8), up to the right
        a = np.pi * (1 - k / 16)
        pts.append((cx + r * np.cos(a), cy + r * np.sin(a)))
    brow_y = cy - (0.62 if surprise else 0.45) * r
    pts += [(cx + r * x, brow_y - 0.05 * r * np.sin(np.pi * i / 4)) for i, x in enumerate(np.linspace(-0.75, -0.15, 5))]
    pts += [(cx + r * x, brow_y - 0.05 * r * np.sin(np.pi * i / 4)) for i, x in enumerate(np.linspace(0.15, 0.75, 5))]
    pts += [(cx, cy + r * y) for y in np.linspace(-0.3, 0.15, 4)]  # nose bridge 27..30
    pts += [(cx + r * x, cy + 0.25 * r) for x in np.linspace(-0.2, 0.2, 5)]  # nostrils 31..35
    for ex in (-0.4, 0.4):  # eyes 36..41, 42..47
        for a in np.linspace(np.pi, -np.pi, 6, endpoint=False):
            pts.append((cx + r * (ex + 0.14 * np.cos(a)), cy - 0.2 * r - 0.06 * r * np.sin(a)))  # 37, 38 upper lid
    mouth_y, half_w = cy + 0.55 * r, (0.5 if smile else 0.3) * r
    half_h = 0.28 * r if surprise else (0.12 * r if smile else 0.04 * r)
    for radius_scale, count in ((1.0, 12), (0.6, 8)):  # outer 48..59, inner 60..67
        for a in np.linspace(np.pi, -np.pi, count, endpoint=False):
            x = cx + radius_scale * half_w * np.cos(a)
            y = mouth_y - radius_scale * half_h * np.sin(a)
            if smile:  # corners up, centre down
                y += -0.15 * r * abs(np.cos(a)) + 0.1 * r * (1 - abs(np.cos(a)))
            pts.append((x, y))
    return np.array(pts)


def draw_frame(rng_bg: np.ndarray, lm: np.ndarray, body: dict, shirt: tuple, surprise: bool) -> np.ndarray:
    image = rng_bg.copy()
    cx, cy, r = body["cx"], body["cy"], body["r"]
    torso = (int(cx - 1.1 * r), int(cy + 1.1 * r), int(cx + 1.1 * r), int(min(HEIGHT - 1, cy + 3.6 * r)))
    cv2.rectangle(image, torso[:2], torso[2:], shirt, -1)
    for side in ("left", "right"):
        s, e, w = body[f"{side}_shoulder"], body[f"{side}_elbow"], body[f"{side}_wrist"]
        cv2.line(image, _pt(s), _pt(e), shirt, max(2, int(0.35 * r)))
        cv2.line(image, _pt(e), _pt(w), (225, 190, 160), max(2, int(0.3 * r)))
    cv2.circle(image, _pt((cx, cy)), int(r), (235, 200, 170), -1, lineType=cv2.LINE_AA)
    cv2.polylines(image, [np.round(lm[17:22]).astype(np.int32)], False, (70, 40, 20), 2)
    cv2.polylines(image, [np.round(lm[22:27]).astype(np.int32)], False, (70, 40, 20), 2)
    for eye in (lm[36:42], lm[42:48]):
        cv2.fillPoly(image, [np.round(eye).astype(np.int32)], (40, 30, 30))
    cv2.fillPoly(image, [np.round(lm[48:60]).astype(np.int32)], (120, 20, 30), lineType=cv2.LINE_AA)
    if not surprise:
        cv2.fillPoly(image, [np.round(lm[60:68]).astype(np.int32)], (150, 40, 50))
    return image


def _pt(p) -> tuple[int, int]:
    return int(round(p[0])), int(round(p[1]))


def body_pose(t: float, frame: int, labels: dict, base_x: float) -> dict:
    r = 14.0
    drift = 25.0 * (t - 0.5) if labels["Curiosity"] else 0.0
    cx, cy = base_x + drift, 34.0
    pose = {"cx": cx, "cy": cy, "r": r}
    for sign, side in ((-1, "left"), (1, "right")):
        shoulder = (cx + sign * 1.1 * r, cy + 1.35 * r)
        if labels["Frustration"]:  # arms folded across the torso
            elbow = (cx + sign * 1.4 * r, cy + 2.4 * r)
            wrist = (cx - sign * 0.8 * r, cy + 2.1 * r)
        elif labels["Excitement"]:  # arms waving up and down, out of phase
            swing = np.sin(2 * np.pi * frame / 3.3 + (0 if sign < 0 else np.pi))
            elbow = (shoulder[0] + sign * 1.1 * r, shoulder[1] - 0.8 * r * swing)
            wrist = (elbow[0] + sign * 0.4 * r, elbow[1] - 1.0 * r * swing)
        else:  # arms hanging
            elbow = (shoulder[0] + sign * 0.3 * r, shoulder[1] + 1.2 * r)
            wrist = (elbow[0] + sign * 0.1 * r, elbow[1] + 1.1 * r)
        pose.update({f"{side}_shoulder": shoulder, f"{side}_elbow": elbow, f"{side}_wrist": wrist})
    pose["hips"] = [(cx - 0.8 * r, cy + 3.4 * r), (cx + 0.8 * r, cy + 3.4 * r)]
    return pose


def pose_points(pose: dict, lm: np.ndarray) -> np.ndarray:
    """Visible Holistic pose landmarks (nose, eyes, mouth corners, shoulders, elbows, wrists, hips)."""
    pts = [lm[30], lm[39], lm[42], lm[48], lm[54]]
    for side in ("left", "right"):
        pts += [pose[f"{side}_shoulder"], pose[f"{side}_elbow"], pose[f"{side}_wrist"]]
    pts += pose["hips"]
    pts = np.array(pts, dtype=np.float64)
    pts[:, 0] = np.clip(pts[:, 0] / WIDTH, 0, 1)
    pts[:, 1] = np.clip(pts[:, 1] / HEIGHT, 0, 1)
    return pts


def write_video(path: Path, frames: list[np.ndarray]) -> None:
    def write(handle):
        with av.open(handle, mode="w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=FPS, options={"crf": "18", "preset": "veryfast"})
            stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
            stream.codec_context.thread_count = 1  # deterministic bytes
            for image in frames:
                for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)

    atomic_write(path, write)


def hand_points(wrist, sign: int) -> np.ndarray:
    """21 Holistic hand landmarks, normalised: a small fan beyond the wrist."""
    angles = np.linspace(-0.6, 0.6, 21)
    pts = np.stack([wrist[0] + sign * (3 + 4 * np.cos(angles)), wrist[1] + 4 * np.sin(angles)], 1)
    return np.clip(pts / [WIDTH, HEIGHT], 0, 1)


def write_frames(folder: Path, frames: list[np.ndarray]) -> None:
    for f, image in enumerate(frames, start=1):
        atomic_write(folder / f"{f:06d}.jpg", lambda h, im=image: Image.fromarray(im).save(h, format="JPEG",
                                                                                          quality=95))


def make_clip(root: Path, name: str, labels: dict, rng: np.random.Generator, split: str) -> None:
    stem = Path(name).stem
    bg = np.clip(rng.normal(120, 18, (HEIGHT, WIDTH, 3)), 0, 255).astype(np.uint8)
    bg = cv2.GaussianBlur(bg, (7, 7), 0)
    shirt = tuple(int(v) for v in rng.integers(40, 220, 3))
    base_x = float(rng.uniform(60, 100))
    no_face = set(rng.choice(NUM_FRAMES, size=int(rng.integers(0, 3)), replace=False).tolist())
    no_pose = set(rng.choice(NUM_FRAMES, size=int(rng.integers(0, 3)), replace=False).tolist())
    frames, masked, face_rows, pose_lines, hand_lines = [], [], [], [], {"left": [], "right": []}
    header = openface_header()
    for f in range(NUM_FRAMES):
        pose = body_pose(f / (NUM_FRAMES - 1), f, labels, base_x)
        lm = face_landmarks(pose["cx"], pose["cy"], pose["r"], bool(labels["Happiness"]), bool(labels["Surprise"]))
        frames.append(draw_frame(bg, lm, pose, shirt, bool(labels["Surprise"])))
        masked.append(draw_surgical_mask(frames[-1], lm[:, 0].astype(np.float32), lm[:, 1].astype(np.float32)))
        row = dict.fromkeys(header, 0.0)
        row.update({"frame": f + 1, "timestamp": round(f / FPS, 3)})
        if f not in no_face:
            row.update({"confidence": 0.98, "success": 1})
            row.update({f"x_{i}": round(float(lm[i, 0]), 3) for i in range(68)})
            row.update({f"y_{i}": round(float(lm[i, 1]), 3) for i in range(68)})
        face_rows.append(row)
        pts = pose_points(pose, lm)
        pose_lines.append("" if f in no_pose else " ".join(f"{v:.5f}" for v in pts.ravel()))
        for sign, side in ((-1, "left"), (1, "right")):
            hand = hand_points(pose[f"{side}_wrist"], sign)
            hand_lines[side].append("" if f in no_pose else " ".join(f"{v:.5f}" for v in hand.ravel()))
    video_dir = root / VIDEO_SUBDIR
    write_video(video_dir / name, frames)
    table = pd.DataFrame(face_rows, columns=header)
    text = ", ".join(header) + "\r\n" + table.to_csv(header=False, index=False, lineterminator="\r\n")
    atomic_write_text(video_dir / f"{name}_openface" / f"{stem}.csv", text)
    hol = "\n".join(pose_lines + hand_lines["left"] + hand_lines["right"]) + "\n"
    atomic_write_text(root / HOLISTIC_SUBDIR / f"{stem}_hol.txt", hol)
    folder = SPLIT_FOLDERS[split]
    write_frames(root / "Data" / folder / f"{stem}_frames_full", frames)
    write_frames(root / "Data_mask" / f"{folder}_mask" / f"{stem}_mask_frames_full", masked)


def draw_labels(rng: np.random.Generator) -> dict:
    labels = {name: int(rng.random() < 0.35) for name in LABELS}
    if labels["Excitement"] and labels["Frustration"]:  # arms cannot both wave and stay folded
        labels["Frustration"] = 0
    return labels


def make_demo_dataset(out: str | Path, counts: dict[str, int] | None = None, seed: int = 0,
                      show_progress: bool = True) -> Path:
    """Write the demo dataset under ``out`` (skipped when a complete one is already there)."""
    out = Path(out)
    counts = counts or {"train": 48, "val": 24, "test": 24}
    marker = out / DEMO_MARKER
    expected = (f"bodily_tsn demo EmoReact seed={seed} counts={counts} size={WIDTH}x{HEIGHT}x{NUM_FRAMES} "
                "layout=original-frames+holistic-3N\n")
    if marker.is_file() and marker.read_text() == expected:
        return out
    claim_output_folder(out, "bodily_tsn.demo_data", DEMO_MARKER)  # never a user's folder: only an empty one or ours
    rng = np.random.default_rng(seed)
    for split, count in counts.items():
        rows = []
        for i in progress(range(count), desc=f"demo {split}", enabled=show_progress):
            name = f"demo{split.upper()}{i:03d}_1.mp4"
            on_disk = f"demo'{split.upper()}{i:03d}_1.mp4" if i == 0 else name  # the CSV drops the apostrophe
            labels = draw_labels(rng)
            make_clip(out, on_disk, labels, np.random.default_rng([seed, hash_split(split), i]), split)
            valence = 4 + 1.5 * labels["Happiness"] - 1.5 * labels["Frustration"] + rng.normal(0, 0.5)
            rows.append({"video": name, **labels, "Valence": round(float(np.clip(valence, 1, 7)), 4)})
        buffer = io.StringIO()
        pd.DataFrame(rows, columns=["video", *LABELS, "Valence"]).to_csv(buffer)
        atomic_write_text(out / f"{split}.csv", buffer.getvalue())
    atomic_write_text(marker, expected)
    return out


def hash_split(split: str) -> int:
    return {"train": 1, "val": 2, "test": 3}.get(split, 4)


def main(argv=None) -> None:
    parser = demo_data_parser()
    args = parser.parse_args(argv)
    path = make_demo_dataset(args.out, {"train": args.train, "val": args.val, "test": args.test}, args.seed)
    print(f"demo EmoReact written to {path}")


if __name__ == "__main__":
    main()
