"""The bodily page: a short video of one person in; the 8 EmoReact labels with scores, and a Grad-CAM strip on demand.

    python -m bodily_tsn.app --checkpoint RUN/checkpoint_best.pt [--port 7860]

The network is rebuilt from the run's args.yaml beside the checkpoint (its input streams: face, body, full body or
face + body fusion; segments; crop size). A user's video has no OpenFace / MediaPipe files, so the page finds the face
with OpenCV's detector on each sampled frame and uses the whole frame as the body box, which is what the original does
for a frame its landmark files miss (``dataset.clip_from_video``); the scores are therefore close to, not the same as,
those of the training pipeline with landmark files. Without a checkpoint the page says which file it needs.
"""

from __future__ import annotations

from pathlib import Path

from shared_utils import webapp  # first: gradio's analytics off before gradio is imported

HOW_TO_GET_A_MODEL = (
    "This page needs a trained bodily_tsn run: --checkpoint RUN/checkpoint_best.pt (its args.yaml beside it) from "
    "`python -m bodily_tsn.train_EmoReact ...` (see bodily_tsn/README.md; `python -m bodily_tsn.reproduce` trains "
    "one on demo data in about a minute).")
VIDEO_LIMIT_SECONDS = 60


def get_args_parser():
    parser = webapp.app_parser(
        __doc__.splitlines()[0], "a bodily_tsn run's checkpoint (checkpoint_best.pt, with args.yaml beside it)")
    return parser


class ClipScorer:
    """The run's network and its clip options: ``scores(video) -> ({stream: label scores}, tensor, frame indices)``
    (a fusion run: "fusion", the model's output, and each stream's own scores)."""

    def __init__(self, checkpoint: str | Path):
        import cv2

        from bodily_tsn.explain import load_run_model
        from bodily_tsn.presets import ClipEvalTransform

        checkpoint = Path(checkpoint)
        if not checkpoint.is_file():
            raise SystemExit(f"error: checkpoint {checkpoint} does not exist")
        self.model, self.args = load_run_model(checkpoint.parent, checkpoint)
        self.transform = ClipEvalTransform(self.args.crop_size)
        self.cascade = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"))

    def face_box(self, rgb):
        import cv2

        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        found = self.cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))
        if not len(found):
            return None
        x, y, w, h = max(found, key=lambda b: b[2] * b[3])
        return (x, y, x + w, y + h)

    def scores(self, video: Path):
        import torch

        from bodily_tsn.dataset import LABELS, clip_from_video, stream_names

        indices, crops = clip_from_video(video, self.args.input, self.args.num_segments, self.face_box)
        frames = self.transform([crops[name] for name in stream_names(self.args.input)])
        with torch.no_grad():
            out = self.model(frames[None])
        streams = stream_names(self.args.input)
        per_stream = {self.args.input: out["logits"][0]}  # fusion: the mean of the streams' logits, as in training
        if len(streams) > 1:
            per_stream.update({name: out["stream_logits"][0, s] for s, name in enumerate(streams)})
        scores = {stream: {name: round(float(p), 4) for name, p in zip(LABELS, torch.sigmoid(logits.float()))}
                  for stream, logits in per_stream.items()}
        return scores, frames, indices


def build_page(scorer: ClipScorer | None):
    import gradio as gr

    from bodily_tsn.dataset import LABELS, BadClipError

    def score(video_path, cam_label, stream):
        if scorer is None:
            raise webapp.UserInputError(HOW_TO_GET_A_MODEL)
        if not video_path:
            raise webapp.UserInputError("no video given: upload a clip first")
        path = Path(video_path)
        if path.stat().st_size == 0:
            raise webapp.UserInputError(f"{path.name}: the file is empty")
        try:
            all_scores, frames, indices = scorer.scores(path)
        except BadClipError:
            raise webapp.UserInputError(f"{path.name}: not a video this page can read") from None
        stream = stream if stream in all_scores else scorer.args.input
        probs = all_scores[stream]
        table = sorted(([name, p] for name, p in probs.items()), key=lambda row: -row[1])
        strip = None
        if cam_label:
            strip = cam_strip(scorer.model, frames, LABELS.index(cam_label), indices)
        return table, all_scores, strip, f"**{table[0][0]}** {table[0][1]:.2f} (input: {scorer.args.input}, " \
                                         f"scores of: {stream}, {len(indices)} frames)"

    blocks = webapp.page("Bodily expressions (EmoReact)", "A short video of one person: the eight EmoReact labels "
                         f"({', '.join(LABELS)}) with the network's scores (sigmoid, one per label).")
    with blocks:
        if scorer is None:
            gr.Markdown(f"**No model loaded.** {HOW_TO_GET_A_MODEL}", elem_id="no-model")
        upload = gr.File(label=f"video (mp4, up to {VIDEO_LIMIT_SECONDS} s)", type="filepath", elem_id="clip-input")
        choices = ["fusion", "face", "body"] if scorer is not None and scorer.args.input == "fusion" else \
            [scorer.args.input if scorer is not None else "face"]
        stream = gr.Radio(choices, value=choices[0], label="scores of (fusion: the model's output, or one stream's)",
                          visible=len(choices) > 1)
        cam_label = gr.Dropdown([None, *LABELS], value=None, label="Grad-CAM strip for label (optional)")
        run = gr.Button("Score the video", variant="primary", elem_id="run-clip")
        status = gr.Markdown(elem_id="clip-status")
        with gr.Row():
            table = gr.Dataframe(headers=["label", "score"], label="labels", interactive=False)
            details = gr.JSON(label="scores")
        strip = gr.Image(type="filepath", label="Grad-CAM per sampled frame")
        run.click(webapp.guarded(score, 4), [upload, cam_label, stream], [table, details, strip, status],
                  api_name="score")
    return blocks


def cam_strip(model, frames, label: int, indices) -> str:
    from bodily_tsn.explain import explain_clip
    from shared_utils.plotting import overlay_heatmap, save_image_grid

    explained = explain_clip(model, frames, label, "gradcam")
    images, titles = [], []
    for stream, result in explained.items():
        images += [overlay_heatmap(img, hm) for img, hm in zip(result["images"], result["maps"])]
        titles += [f"{stream} frame {i}" for i in indices]
    path = webapp.scratch_file("gradcam_strip.png")
    save_image_grid(images, path, titles=titles, ncols=len(indices))
    return str(path)


def main(argv: list[str] | None = None) -> None:
    args = get_args_parser().parse_args(argv)
    scorer = ClipScorer(args.checkpoint) if args.checkpoint else None
    webapp.launch(build_page(scorer), args)


if __name__ == "__main__":
    main()
