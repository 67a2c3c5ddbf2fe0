"""Faces in a photo or video frame, each classified with its probabilities: the code behind ``predict.py`` and the
faces page (``app.py``).

Faces are found with OpenCV's bundled frontal-face detector (Haar cascade; OpenCV's profile cascade, on the image
and its mirror, when the frontal one finds nothing); each face, never the whole photo, is cut out as the square
``FACE_BOX_SCALE`` times its box (FER2013's own framing, measured by ``framing.py``), turned to grey and resized to
the 48x48 the FER2013 models were trained on, then classified (centre crop, as evaluation).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fer_seresnet.options import FACE_BOX_SCALE, SHIPPED_CHECKPOINT


def read_rgb(path: Path) -> np.ndarray:
    from shared_utils.files import read_image

    return read_image(path, "RGB", decoder="opencv")


def _cascade(name: str):
    import cv2

    path = Path(cv2.data.haarcascades) / f"haarcascade_{name}.xml"
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise SystemExit(f"error: {path}: OpenCV's face detector could not be loaded")
    return cascade


def _drop_overlaps(boxes: list[tuple[int, int, int, int]], max_iou: float = 0.3) -> list[tuple[int, int, int, int]]:
    """Largest first; a box overlapping a kept one (the same face found twice) is dropped. (Greedy NMS ordered by
    area; torchvision's ``ops.nms`` needs its compiled kernels, ``box_iou`` is plain torch.)"""
    if len(boxes) < 2:
        return boxes
    import torch
    from torchvision.ops import box_iou

    iou = box_iou(torch.tensor(boxes, dtype=torch.float32), torch.tensor(boxes, dtype=torch.float32))
    kept: list[int] = []
    for i in range(len(boxes)):
        if all(iou[i, j] <= max_iou for j in kept):
            kept.append(i)
    return [boxes[i] for i in kept]


class FaceDetector:
    """OpenCV's bundled Haar cascades: frontal faces, else turned faces (profile cascade, image and mirror)."""

    def __init__(self, min_face: int = 24):
        self.frontal, self.profile = (_cascade(name) for name in ("frontalface_default", "profileface"))
        self.min_face = min_face

    def __call__(self, rgb: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Boxes ``(x1, y1, x2, y2)``, largest first."""
        import cv2

        gray = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))

        def run(cascade, image):
            found = cascade.detectMultiScale(image, scaleFactor=1.1, minNeighbors=5,
                                             minSize=(self.min_face, self.min_face))
            return [(int(x), int(y), int(x + w), int(y + h)) for x, y, w, h in (found if len(found) else [])]

        boxes = run(self.frontal, gray)
        if not boxes:
            # Turned faces: OpenCV's profile cascade only knows faces looking one way, so the mirror image too.
            width = gray.shape[1]
            boxes = run(self.profile, gray) + [(width - x2, y1, width - x1, y2)
                                               for x1, y1, x2, y2 in run(self.profile, cv2.flip(gray, 1))]
        return _drop_overlaps(sorted(boxes, key=lambda b: -(b[2] - b[0]) * (b[3] - b[1])))


def face_square(box, scale: float = FACE_BOX_SCALE) -> tuple[int, int, int]:
    """``(left, top, side)`` of the square ``scale`` times the box's side around the box's centre."""
    x1, y1, x2, y2 = box
    side = max(1, round(max(x2 - x1, y2 - y1) * scale))
    return round((x1 + x2 - side) / 2), round((y1 + y2 - side) / 2), side


def crop_face(gray: np.ndarray, box, scale: float = FACE_BOX_SCALE, size: int = 48) -> np.ndarray:
    """The face's square (``face_square``) resized to ``size``; where it reaches past the photo's edge the edge
    pixels are repeated (never the whole photo squashed)."""
    import cv2

    left, top, side = face_square(box, scale)
    height, width = gray.shape[:2]
    pad = max(0, -left, -top, left + side - width, top + side - height)
    if pad:
        gray = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    patch = gray[top + pad:top + pad + side, left + pad:left + pad + side]
    return cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA if side >= size else cv2.INTER_LINEAR)


class FacePredictor:
    """Detector + classifier: ``faces(rgb) -> [{"box", "label", "probs"}]`` (largest face first)."""

    def __init__(self, checkpoint: str | Path | None = None, device: str = "auto", min_face: int = 24,
                 face_scale: float = FACE_BOX_SCALE):
        from fer_seresnet.presets import ClassificationPresetEval
        from fer_seresnet.scoring import model_from_checkpoint
        from shared_utils.runtime import Runtime

        path = Path(checkpoint) if checkpoint else SHIPPED_CHECKPOINT
        self.rt = Runtime.from_args(device, amp=False)
        self.model, self.options, _ = model_from_checkpoint(path, self.rt)
        self.model.eval()
        self.class_names = list(self.options.get("class_names") or ("angry", "disgust", "fear", "happy", "sad",
                                                                    "surprise", "neutral"))
        self.preset = ClassificationPresetEval(self.options["crop_size"], False, self.options["mean"],
                                               self.options["std"])
        self.detect = FaceDetector(min_face)
        self.face_scale = face_scale

    def classify(self, crops: np.ndarray):
        """(model inputs, probabilities) for 48x48 grey faces ``crops`` (N, 48, 48) uint8."""
        import torch

        inputs = self.rt.to_device(self.preset(torch.from_numpy(np.ascontiguousarray(crops))))
        with torch.no_grad():
            return inputs, self.model(inputs).float().softmax(1).cpu().numpy()

    def faces(self, rgb: np.ndarray, cam: bool = False) -> list[dict]:
        import cv2

        from fer_seresnet.dataset import IMAGE_SIZE

        boxes = self.detect(rgb)
        if not boxes:
            return []
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        inputs, probs = self.classify(np.stack([crop_face(gray, box, self.face_scale, IMAGE_SIZE) for box in boxes]))
        out = [{"box": list(box), "label": self.class_names[int(p.argmax())],
                "probs": {name: round(float(v), 4) for name, v in zip(self.class_names, p)}}
               for box, p in zip(boxes, probs)]
        if cam:
            from shared_utils.gradcam import CamExplainer

            core = self.rt.unwrap(self.model)
            with CamExplainer(core, [core.stages[-1]]) as explainer:
                maps = explainer(inputs, [int(p.argmax()) for p in probs])
            for face, heat in zip(out, maps):
                face["cam"] = cam_on_box(heat, face["box"], self.face_scale, self.options["crop_size"], IMAGE_SIZE)
        return out


def cam_on_box(heat: np.ndarray, box, scale: float, crop_size: int, size: int = 48) -> np.ndarray:
    """The part of a face's Grad-CAM map that lies on its detector box (what ``annotate`` overlays). The map
    covers the evaluation centre crop (``crop_size`` of ``size``) of the face's square; outside it, zero."""
    import cv2

    left, top, side = face_square(box, scale)
    inner = max(1, round(side * crop_size / size))
    margin = (side - inner) // 2
    square = np.zeros((side, side), dtype=np.float32)
    square[margin:margin + inner, margin:margin + inner] = cv2.resize(heat.astype(np.float32), (inner, inner))
    x1, y1, x2, y2 = box
    return square[max(0, y1 - top):y2 - top, max(0, x1 - left):x2 - left]


def annotate(rgb: np.ndarray, faces: list[dict]) -> np.ndarray:
    import cv2

    from shared_utils.plotting import overlay_heatmap

    canvas = rgb.copy()
    for face in faces:
        x1, y1, x2, y2 = face["box"]
        if "cam" in face:
            patch = canvas[y1:y2, x1:x2]
            heat = cv2.resize(face["cam"], (patch.shape[1], patch.shape[0]))
            canvas[y1:y2, x1:x2] = overlay_heatmap(patch, heat, alpha=0.45)
        thickness = max(2, round(max(rgb.shape[:2]) / 400))
        cv2.rectangle(canvas, (x1, y1), (x2, y2), (40, 220, 40), thickness)
        text = f"{face['label']} {face['probs'][face['label']]:.2f}"
        scale = max(0.5, (x2 - x1) / 220)
        cv2.putText(canvas, text, (x1, max(15, y1 - 6)), cv2.FONT_HERSHEY_SIMPLEX, scale, (40, 220, 40),
                    thickness, cv2.LINE_AA)
    return canvas


def public_faces(faces: list[dict]) -> list[dict]:
    return [{k: v for k, v in face.items() if k != "cam"} for face in faces]


# --------------------------------------------------------------------------- one input
def predict_image(predictor: FacePredictor, path: Path, cam: bool = False) -> tuple[dict, np.ndarray | None]:
    rgb = read_rgb(path)
    faces = predictor.faces(rgb, cam)
    return {"path": str(path), "faces": public_faces(faces)}, (annotate(rgb, faces) if faces else None)


def predict_video(predictor: FacePredictor, path: Path, every: int, cam: bool = False):
    """(record, last annotated frame with faces, (times, per-class probability rows of the largest face))."""
    import av

    frames, annotated, times, rows = [], None, [], []
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            for n, frame in enumerate(container.decode(stream)):
                if n % every:
                    continue
                rgb = frame.to_ndarray(format="rgb24")
                faces = predictor.faces(rgb, cam)
                time = float(frame.pts * stream.time_base) if frame.pts is not None else n / float(stream.average_rate)
                frames.append({"frame": n, "time": round(time, 3), "faces": public_faces(faces)})
                if faces:
                    annotated = annotate(rgb, faces)
                    times.append(time)
                    rows.append([faces[0]["probs"][name] for name in predictor.class_names])
    except av.error.FFmpegError as exc:
        raise SystemExit(f"error: {path}: cannot decode the video ({exc})") from None
    if not frames:
        raise SystemExit(f"error: {path}: the video has no frames")
    return {"path": str(path), "frames": frames}, annotated, (times, rows)


def plot_over_time(path: Path, class_names: list[str], times: list[float], rows: list[list[float]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from shared_utils.files import atomic_write

    values = np.asarray(rows)
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for k, name in enumerate(class_names):
        ax.plot(times, values[:, k], label=name)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("probability (largest face)")
    ax.set_ylim(0, 1)
    ax.legend(ncol=4, fontsize=8)
    fig.tight_layout()
    atomic_write(path, lambda handle: fig.savefig(handle, format="png", dpi=110))
    plt.close(fig)
