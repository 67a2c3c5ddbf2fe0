"""The stimuli-map page (emotionroi_ex/app.py), served for real with tiny trained FCNEL and EmoFCNEL runs: the
maps it shows are those ``infer_FCNEL`` / ``infer_EmoFCNEL`` write, bad input gets a message, a missing model is
explained."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.pages import serve
from PIL import Image

from emotionroi_ex import EMOTIONS, infer, options, train_EmoFCNEL, train_FCNEL
from shared_utils.runs import parse_args_with_config

pytestmark = pytest.mark.slow
TINY = ["--backbone", "resnet50", "--arch", "fcn_resnet50", "--input-size", "32", "-b", "4", "--opt", "adam",
        "--lr", "1e-3", "--loss", "mean", "--device", "cpu", "--deterministic", "--epochs",
        "1", "--no-baselines-grid"]


@pytest.fixture(scope="module")
def runs(demo_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("app_runs")
    common = ["--data-path", str(demo_root), "--output", str(out), *TINY]
    fcnel = train_FCNEL.main(parse_args_with_config(train_FCNEL.get_args_parser(), [*common, "--experiment", "f"]))
    emo = train_EmoFCNEL.main(parse_args_with_config(train_EmoFCNEL.get_args_parser(),
                                                     [*common, "--experiment", "e", "--sensitivity-images", "2"]))
    return fcnel, emo


def _image(demo_root):
    return next(p for p in sorted((demo_root / "images").rglob("*.jpg")))


def _mean_of(path):
    return float(np.asarray(Image.open(path), np.float64).mean() / 255)


def test_maps_are_those_infer_writes(runs, demo_root, tmp_path):
    from gradio_client import Client, handle_file

    image = _image(demo_root)
    for run_dir, choice in ((runs[0], None), (runs[1], EMOTIONS[2])):
        with serve("emotionroi_ex.app", "--checkpoint", str(run_dir / "checkpoint_last.pt")) as url:
            gallery, region, summary, status = Client(url, verbose=False).predict(
                handle_file(str(image)), [choice] if choice else [], api_name="/predict_map")
        out = tmp_path / run_dir.name
        argv = ["--weights", str(run_dir / "checkpoint_last.pt"), "--input", str(image), "--output", str(out),
                "--device", "cpu"] + (["--label", choice] if choice else [])
        conditioned = choice is not None  # what infer_EmoFCNEL.py / infer_FCNEL.py run
        infer.main(options.infer_parser(conditioned).parse_args(argv), conditioned)
        (written,) = sorted(out.glob("*_map.png"))
        key = choice or "map"
        assert summary[key]["mean"] == pytest.approx(_mean_of(written), abs=3e-3), (key, summary, written)
        assert len(gallery) == 1 and "the region covers" in status and Image.open(region).size == Image.open(
            image).size


def test_bad_input_and_no_model(runs, demo_root, tmp_path):
    from gradio_client import Client, handle_file

    (tmp_path / "notes.txt").write_text("not an image\n")
    with serve("emotionroi_ex.app", "--checkpoint", str(runs[1] / "checkpoint_last.pt")) as url:
        client = Client(url, verbose=False)
        *outputs, status = client.predict(handle_file(str(tmp_path / "notes.txt")), [EMOTIONS[0]],
                                          api_name="/predict_map")
        assert "not an image this page can read" in status and not any(outputs)
        *_, status = client.predict(handle_file(str(_image(demo_root))), [], api_name="/predict_map")
        assert "choose at least one emotion" in status
    with serve("emotionroi_ex.app") as url:
        *_, status = Client(url, verbose=False).predict(handle_file(str(_image(demo_root))), [],
                                                        api_name="/predict_map")
    assert "needs a trained map network: --checkpoint" in status


def test_in_a_browser_an_image_goes_in_and_its_map_comes_out(runs, demo_root):
    import os
    from pathlib import Path

    from helpers.pages import browser_page

    with serve("emotionroi_ex.app", "--checkpoint", str(runs[1] / "checkpoint_last.pt")) as url:
        with browser_page(url) as page:
            page.locator("#map-input input[type=file]").set_input_files(str(_image(demo_root)))
            page.wait_for_timeout(500)
            page.click("#run-map")
            page.wait_for_function("document.querySelector('#map-status').innerText.includes('region covers')",
                                   timeout=60_000)
            if os.environ.get("PAGE_SCREENSHOTS"):
                page.screenshot(path=str(Path(os.environ["PAGE_SCREENSHOTS"]) / "stimuli_map_page.png"),
                                full_page=True)
