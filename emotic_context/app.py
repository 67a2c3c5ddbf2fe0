"""The context page: a scene photo and a person's box in; the 26 EMOTIC categories and valence/arousal/dominance out.

    python -m emotic_context.app --checkpoint RUN/checkpoint_best.pt [--thresholds FILE] [--port 7860]

The box is two clicks on the photo (two opposite corners) or four numbers. Scores come from the same code as
``main.py --mode inference`` (``person.score_person``); categories over the thresholds (the run's
``val_thresholds.npy`` beside the checkpoint, or ``--thresholds``, e.g. the authors' ``thresholds_rkosti.mat``) are
marked. Without a checkpoint the page says which file it needs and how to make it.
"""
# No `from __future__ import annotations` here: gradio recognises the click handler's gr.SelectData parameter by
# its (evaluated) annotation.
from pathlib import Path

from shared_utils import webapp  # first: gradio's analytics off before gradio is imported

HOW_TO_GET_A_MODEL = (
    "This page needs a trained EMOTIC model: --checkpoint RUN/checkpoint_best.pt from `python -m emotic_context.main "
    "--mode train_test ...` (see emotic_context/README.md), or the Tandon-A port's models converted with "
    "`python -m emotic_context.convert_port MODELS_DIR OUT.pt`.")


def get_args_parser():
    parser = webapp.app_parser(
        __doc__.splitlines()[0], "an emotic_context checkpoint (a run's checkpoint_best.pt or a converted port model)")
    parser.add_argument("--thresholds", default=None,
                        help="26 thresholds (.npy/.json/.mat; default: val_thresholds.npy beside the checkpoint)")
    return parser


class ContextScorer:
    """The checkpoint's model, its input sizes and the thresholds; ``__call__(image, box) -> result dict``."""

    def __init__(self, checkpoint: str | Path, thresholds: str | Path | None = None):
        from emotic_context.evaluation import THRESHOLDS_FILE, load_thresholds
        from emotic_context.model import model_from_checkpoint
        from shared_utils.runtime import Runtime

        checkpoint = Path(checkpoint)
        self.rt = Runtime.from_args("cpu", amp=False)
        model, self.arch, _ = model_from_checkpoint(checkpoint, checkpoint.parent)
        self.model = self.rt.prepare_model(model).eval()
        self.thresholds_path = Path(thresholds) if thresholds else checkpoint.parent / THRESHOLDS_FILE
        self.thresholds = load_thresholds(self.thresholds_path)

    def __call__(self, image, box) -> dict:
        from emotic_context.dataset import CATEGORIES, VAD_NAMES, clamp_bbox
        from emotic_context.person import score_person

        height, width = image.shape[:2]
        clamped = clamp_bbox(box, width, height)
        if clamped[2] <= clamped[0] or clamped[3] <= clamped[1]:
            raise webapp.UserInputError(f"the box {list(box)} has no area inside the {width}x{height} photo")
        scores, vad = score_person(self.model, self.arch, image, clamped, self.rt)
        return {"box": list(clamped),
                "categories": [name for name, s, t in zip(CATEGORIES, scores, self.thresholds) if s > t],
                "scores": {name: round(float(s), 4) for name, s in zip(CATEGORIES, scores)},
                "vad": {name: round(float(v), 3) for name, v in zip(VAD_NAMES, vad)}}


def build_page(scorer: ContextScorer | None):
    import gradio as gr

    from emotic_context.dataset import CATEGORIES, read_rgb

    def score(image_path, x1, y1, x2, y2):
        if scorer is None:
            raise webapp.UserInputError(HOW_TO_GET_A_MODEL)
        path = webapp.check_image_file(image_path)
        if any(v is None for v in (x1, y1, x2, y2)):
            raise webapp.UserInputError("give the person's box: click two opposite corners on the photo, or type "
                                        "x1, y1, x2, y2")
        image = read_rgb(path)
        result = scorer(image, [float(x1), float(y1), float(x2), float(y2)])
        table = [[name, result["scores"][name], "yes" if name in result["categories"] else ""]
                 for name in sorted(CATEGORIES, key=lambda n: -result["scores"][n])]
        vad = ", ".join(f"{k} {v:.2f}" for k, v in result["vad"].items())
        chosen = ", ".join(result["categories"]) or "none over its threshold"
        return table, result, f"**{chosen}**; {vad} (1-10)"

    def show(image_path):
        return read_rgb(webapp.check_image_file(image_path)), None, None, None, None, "Click two opposite corners " \
            "of the person (or type the box), then score."

    def corner(x1, y1, x2, y2, evt: gr.SelectData):
        """First click: one corner; second click: the opposite corner (a third click starts again)."""
        x, y = (int(v) for v in evt.index)
        if x1 is None or x2 is not None:
            return x, y, None, None
        return min(x1, x), min(y1, y), max(x1, x), max(y1, y)

    blocks = webapp.page("Emotions in context (EMOTIC)", "A scene photo and one person's box: the 26 EMOTIC "
                         "categories with their scores (those over the validation thresholds marked) and valence, "
                         "arousal, dominance on 1-10, from the body and scene two-stream network.")
    with blocks:
        if scorer is None:
            gr.Markdown(f"**No model loaded.** {HOW_TO_GET_A_MODEL}", elem_id="no-model")
        # The upload is a file input and the photo is shown by our code: gradio decoding an image upload itself
        # would answer a non-image with an error of its own instead of the page's one-line message.
        upload = gr.File(label="scene photo (JPEG, PNG, BMP, WebP)", type="filepath", elem_id="scene-input")
        with gr.Row():
            scene = gr.Image(type="numpy", label="click two opposite corners of the person", elem_id="scene",
                             interactive=False)
            with gr.Column():
                x1, y1 = gr.Number(label="x1", elem_id="x1", precision=0), gr.Number(label="y1", elem_id="y1",
                                                                                   precision=0)
                x2, y2 = gr.Number(label="x2", elem_id="x2", precision=0), gr.Number(label="y2", elem_id="y2",
                                                                                   precision=0)
                run = gr.Button("Score this person", variant="primary", elem_id="run-context")
        status = gr.Markdown(elem_id="context-status")
        table = gr.Dataframe(headers=["category", "score", "over threshold"], label="categories", interactive=False)
        details = gr.JSON(label="box, categories over threshold, scores, VAD")
        upload.upload(webapp.guarded(show, 6), upload, [scene, x1, y1, x2, y2, status], api_name=False)
        scene.select(corner, [x1, y1, x2, y2], [x1, y1, x2, y2], api_name=False)
        run.click(webapp.guarded(score, 3), [upload, x1, y1, x2, y2], [table, details, status], api_name="score")
    return blocks


def main(argv: list[str] | None = None) -> None:
    args = get_args_parser().parse_args(argv)
    scorer = ContextScorer(args.checkpoint, args.thresholds) if args.checkpoint else None
    webapp.launch(build_page(scorer), args)


if __name__ == "__main__":
    main()
