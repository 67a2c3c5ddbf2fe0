"""The faces page: a photo, a webcam frame or a short video in; every face boxed, labelled, with probabilities.

    python -m fer_seresnet.app [--checkpoint FILE] [--port 7860] [--host 127.0.0.1]     (or: make demo)

It runs the same code as ``python -m fer_seresnet.predict`` (``FacePredictor``, ``annotate``, ``predict_video``),
with the shipped FER2013 model unless ``--checkpoint`` names another, on this machine only.
"""

from __future__ import annotations

from pathlib import Path

from shared_utils import webapp  # first: gradio's analytics off before gradio is imported

VIDEO_LIMIT_SECONDS = 60


def get_args_parser():
    from fer_seresnet.options import SHIPPED_CHECKPOINT

    parser = webapp.app_parser(
        __doc__.splitlines()[0], f"a fer_seresnet checkpoint (default: the shipped {SHIPPED_CHECKPOINT.name})")
    return parser


def face_rows(faces: list[dict]) -> str:
    """Markdown: one line per face, its label and the three most likely emotions."""
    lines = []
    for n, face in enumerate(faces, start=1):
        top = sorted(face["probs"].items(), key=lambda kv: -kv[1])[:3]
        lines.append(f"{n}. **{face['label']}** — " + ", ".join(f"{name} {p:.2f}" for name, p in top))
    return "\n".join(lines)


def build_page(predictor):
    import gradio as gr

    from fer_seresnet.faces import annotate, plot_over_time, predict_video, public_faces, read_rgb

    def predict_photo(image_path, cam):
        path = webapp.check_image_file(image_path)
        rgb = read_rgb(path)
        faces = predictor.faces(rgb, bool(cam))
        if not faces:
            return None, [], "No face found in this photo (OpenCV's detector needs a face of at least 24 pixels, " \
                             "roughly frontal or in profile)."
        return annotate(rgb, faces), public_faces(faces), f"{len(faces)} face(s):\n\n{face_rows(faces)}"

    def predict_clip(video_path, every):
        if not video_path:
            raise webapp.UserInputError("no video given: upload a clip first")
        path = Path(video_path)
        if path.stat().st_size == 0:
            raise webapp.UserInputError(f"{path.name}: the file is empty")
        _check_duration(path)
        record, annotated, (times, rows) = predict_video(predictor, path, max(int(every or 1), 1))
        record = {"frames": record["frames"]}  # (a "path" key would make gradio serve the upload as a file)
        if annotated is None:
            return None, None, record, f"No face found in the {len(record['frames'])} frames looked at."
        plot = webapp.scratch_file("emotions_over_time.png")
        plot_over_time(plot, predictor.class_names, times, rows)
        found = sum(bool(frame["faces"]) for frame in record["frames"])
        return annotated, str(plot), record, f"Faces in {found} of the {len(record['frames'])} frames looked at."

    blocks = webapp.page("Facial expressions", "Every face found in your photo or video, with the emotion the "
                         f"FER2013 model reads ({', '.join(predictor.class_names)}). Faces are found with OpenCV's "
                         "detector; each face (never the whole photo) is resized to 48x48 grey, as in training.")
    with blocks:
        # A file input, not gr.Image: gradio decodes an Image upload itself and answers a non-image with an
        # error of its own; our check gives the user one line instead.
        for tab, source in (("Photo", "upload"), ("Webcam", "webcam")):
            with gr.Tab(tab):
                with gr.Row():
                    if source == "upload":
                        photo = gr.File(label="photo (JPEG, PNG, BMP, WebP)", type="filepath",
                                        elem_id="photo-input")
                    else:
                        photo = gr.Image(type="filepath", sources=["webcam"], label="webcam frame")
                    annotated = gr.Image(type="numpy", label="faces found", format="jpeg")
                cam = gr.Checkbox(label="Grad-CAM overlay (where the model looked)")
                run_photo = gr.Button("Find the emotions", variant="primary", elem_id=f"run-{source}")
                status = gr.Markdown(elem_id=f"{source}-status")
                faces_json = gr.JSON(label="faces: box [x1, y1, x2, y2], label, probabilities")
                run_photo.click(webapp.guarded(predict_photo, 3), [photo, cam], [annotated, faces_json, status],
                                api_name="predict_photo" if source == "upload" else "predict_webcam")
        with gr.Tab("Video"):
            with gr.Row():
                video = gr.Video(label=f"short video (up to {VIDEO_LIMIT_SECONDS} s)", sources=["upload"])
                frame = gr.Image(type="numpy", label="last frame with a face", format="jpeg")
            every = gr.Slider(1, 30, value=10, step=1, label="look at every N-th frame")
            run_video = gr.Button("Emotions over time", variant="primary", elem_id="run-video")
            video_status = gr.Markdown(elem_id="video-status")
            plot = gr.Image(type="filepath", label="emotions over time (largest face)")
            video_json = gr.JSON(label="per frame")
            run_video.click(webapp.guarded(predict_clip, 4), [video, every], [frame, plot, video_json, video_status],
                            api_name="predict_video")
    return blocks


def _check_duration(path: Path) -> None:
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            seconds = float(stream.duration * stream.time_base) if stream.duration else \
                (container.duration or 0) / 1e6
    except (av.error.FFmpegError, IndexError):
        raise webapp.UserInputError(f"{path.name}: not a video this page can read") from None
    if seconds > VIDEO_LIMIT_SECONDS:
        raise webapp.UserInputError(f"{path.name}: {seconds:.0f} s long; this page takes clips up to "
                                    f"{VIDEO_LIMIT_SECONDS} s (python -m fer_seresnet.predict has no limit)")


def main(argv: list[str] | None = None) -> None:
    args = get_args_parser().parse_args(argv)
    from fer_seresnet.faces import FacePredictor

    predictor = FacePredictor(args.checkpoint, device="cpu")
    webapp.launch(build_page(predictor), args)


if __name__ == "__main__":
    main()
