"""The stimuli-map page: an image in; the predicted emotion stimuli map over it, its Otsu region, and with an EmoFCNEL
checkpoint the map for each emotion chosen.

    python -m emotionroi_ex.app --checkpoint RUN/checkpoint_last.pt [--port 7860]

Maps come from the same code as ``infer_FCNEL.py`` / ``infer_EmoFCNEL.py`` (``infer.MapPredictor``: the network's
options from the run's args.yaml beside the checkpoint); the region is the map thresholded at Otsu's level, as the
paper's precision/recall/F (``shared_utils.metrics.otsu_threshold``). Without a checkpoint the page says which file
it needs and how to make it.
"""

from __future__ import annotations

from shared_utils import webapp  # first: gradio's analytics off before gradio is imported
from shared_utils.cli import positive_int

HOW_TO_GET_A_MODEL = (
    "This page needs a trained map network: --checkpoint RUN/checkpoint_last.pt from `python -m "
    "emotionroi_ex.train_FCNEL` or `python -m emotionroi_ex.train_EmoFCNEL` (see emotionroi_ex/README.md; "
    "`python -m emotionroi_ex.reproduce` trains both on demo data in a few minutes).")


def get_args_parser():
    parser = webapp.app_parser(
        __doc__.splitlines()[0], "an FCNEL or EmoFCNEL checkpoint of a training run (its args.yaml beside it)")
    parser.add_argument("--max-side", type=positive_int, default=None,
                        help="shrink the network input (maps keep image size)")
    return parser


def region_picture(image, heat):
    """The photo with everything outside the map's Otsu region darkened, and the region's share of the image."""
    import numpy as np

    from shared_utils.metrics import otsu_threshold

    level = otsu_threshold(heat)
    inside = heat >= level
    picture = np.asarray(image).astype(np.float32)
    picture[~inside] *= 0.25
    return picture.round().astype(np.uint8), float(level), float(inside.mean())


def build_page(predictor):
    import gradio as gr
    import numpy as np

    from emotionroi_ex import EMOTIONS
    from shared_utils.files import open_image
    from shared_utils.plotting import overlay_heatmap

    conditioned = predictor is not None and predictor.conditioned

    def predict(image_path, emotions):
        if predictor is None:
            raise webapp.UserInputError(HOW_TO_GET_A_MODEL)
        image = open_image(webapp.check_image_file(image_path), "RGB")
        labels = [None] if not conditioned else (emotions or [])
        if not labels:
            raise webapp.UserInputError("choose at least one emotion to condition the map on")
        maps = predictor.maps(image, labels)
        first = maps[labels[0]]
        region, level, share = region_picture(image, first)
        gallery = [(overlay_heatmap(np.asarray(image), heat, alpha=0.5), label or "stimuli map")
                   for label, heat in maps.items()]
        summary = {str(label or "map"): {"mean": round(float(heat.mean()), 4), "max": round(float(heat.max()), 4)}
                   for label, heat in maps.items()}
        return (gallery, region, summary,
                f"Otsu level {level:.3f}: the region covers {100 * share:.1f} % of the image"
                + (f" (map for {labels[0]})" if conditioned else ""))

    kind = "EmoFCNEL (the map conditioned on an emotion)" if conditioned else "FCNEL"
    blocks = webapp.page("Emotion stimuli maps (EmotionROI)", f"Where in an image the emotion comes from: the "
                         f"stimuli map a {kind} network predicts, over the image, and its Otsu region.")
    with blocks:
        if predictor is None:
            gr.Markdown(f"**No model loaded.** {HOW_TO_GET_A_MODEL}", elem_id="no-model")
        upload = gr.File(label="image (JPEG, PNG, BMP, WebP)", type="filepath", elem_id="map-input")
        emotions = gr.CheckboxGroup(list(EMOTIONS), value=[EMOTIONS[0]], label="condition on (EmoFCNEL)",
                                    visible=conditioned)
        run = gr.Button("Predict the map", variant="primary", elem_id="run-map")
        status = gr.Markdown(elem_id="map-status")
        with gr.Row():
            gallery = gr.Gallery(label="map over the image", columns=3, format="jpeg")
            region = gr.Image(type="numpy", label="Otsu region (outside darkened)", format="jpeg")
        summary = gr.JSON(label="map mean and maximum")
        run.click(webapp.guarded(predict, 4), [upload, emotions], [gallery, region, summary, status],
                  api_name="predict_map")
    return blocks


def main(argv: list[str] | None = None) -> None:
    args = get_args_parser().parse_args(argv)
    predictor = None
    if args.checkpoint:
        from emotionroi_ex.infer import MapPredictor

        predictor = MapPredictor(args.checkpoint, device="cpu", max_side=args.max_side)
    webapp.launch(build_page(predictor), args)


if __name__ == "__main__":
    main()
