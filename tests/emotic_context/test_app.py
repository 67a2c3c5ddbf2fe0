"""The context page (emotic_context/app.py), served for real with the tiny trained run: its API gives what
``--mode inference`` gives, bad input gets a message, a missing model is explained, and two clicks fill the box."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from helpers.emotic import run_main
from helpers.pages import browser_page, serve
from PIL import Image

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scene(tiny_dataset):
    root, _ = tiny_dataset
    return next(p for p in sorted((root / "emotic").rglob("*")) if p.suffix.lower() in (".jpg", ".png"))


@pytest.fixture(scope="module")
def context_page(tiny_run):
    run_dir, _ = tiny_run
    with serve("emotic_context.app", "--checkpoint", str(run_dir / "checkpoint_best.pt")) as url:
        from gradio_client import Client

        yield url, Client(url, verbose=False)


def test_api_gives_what_inference_gives(context_page, tiny_run, scene, tmp_path):
    _, client = context_page
    from gradio_client import handle_file

    run_dir, _ = tiny_run
    width, height = Image.open(scene).size
    box = [2, 3, width - 4, height - 2]
    table, result, status = client.predict(handle_file(str(scene)), *box, api_name="/score")
    listing = tmp_path / "list.txt"
    listing.write_text(f"{scene} {' '.join(map(str, box))}\n")
    out = tmp_path / "inference.csv"
    run_main(["--mode", "inference", "--experiment_path", str(run_dir), "--inference_file", str(listing),
              "--inference_output", str(out), "--inference_port_output", str(tmp_path / "port.txt")])
    (row,) = list(csv.DictReader(out.open()))
    assert result["box"] == box
    assert ";".join(result["categories"]) == row["categories"]
    for name in ("valence", "arousal", "dominance"):
        assert result["vad"][name] == pytest.approx(float(row[name]), abs=2e-3)
    assert len(table["data"]) == 26 and status.startswith("**")


def test_bad_input_gets_a_message(context_page, scene, tmp_path):
    _, client = context_page
    from gradio_client import handle_file

    (tmp_path / "notes.txt").write_text("not a photo\n")
    cases = [((handle_file(str(tmp_path / "notes.txt")), 1, 1, 5, 5), "not an image this page can read"),
             ((handle_file(str(scene)), None, None, None, None), "give the person's box"),
             ((handle_file(str(scene)), 5000, 5000, 6000, 6000), "has no area inside")]
    for inputs, message in cases:
        table, result, status = client.predict(*inputs, api_name="/score")
        assert result is None and message in status, status


def test_without_a_checkpoint_the_page_says_what_it_needs(scene):
    import tempfile

    import shared_utils.webapp  # noqa: F401  (this process's own upload folder, made on import, before counting)

    def upload_folders():
        return set(Path(tempfile.gettempdir()).glob("visual_emotion_uploads_*"))

    before = upload_folders()
    with serve("emotic_context.app") as url:
        from gradio_client import Client, handle_file

        *_, status = Client(url, verbose=False).predict(handle_file(str(scene)), 1, 1, 5, 5, api_name="/score")
        assert len(upload_folders() - before) == 1  # the page's upload folder, holding the photo
    assert "needs a trained EMOTIC model: --checkpoint" in status and "convert_port" in status
    assert upload_folders() == before  # removed when the page stopped (SIGTERM)


def test_two_clicks_fill_the_box(context_page, scene):
    url, _ = context_page
    with browser_page(url) as page:
        page.locator("#scene-input input[type=file]").set_input_files(str(scene))
        page.wait_for_selector("#scene img", timeout=30_000)
        image = page.locator("#scene img")
        box = image.bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.3)
        page.wait_for_timeout(500)
        page.mouse.click(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.9)
        page.wait_for_timeout(1000)
        values = [float(page.locator(f"#{name} input").input_value()) for name in ("x1", "y1", "x2", "y2")]
        width, height = Image.open(scene).size
        assert values[0] == pytest.approx(0.2 * width, abs=0.05 * width)
        assert values[1] == pytest.approx(0.3 * height, abs=0.05 * height)
        assert values[2] == pytest.approx(0.7 * width, abs=0.05 * width)
        assert values[3] == pytest.approx(0.9 * height, abs=0.05 * height)
        page.click("#run-context")
        page.wait_for_function("document.querySelector('#context-status').innerText.includes('(1-10)')",
                               timeout=60_000)
        if os.environ.get("PAGE_SCREENSHOTS"):
            page.screenshot(path=str(Path(os.environ["PAGE_SCREENSHOTS"]) / "context_page.png"), full_page=True)
