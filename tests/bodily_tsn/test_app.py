"""The bodily page (bodily_tsn/app.py), served for real with a tiny trained fusion run: its scores are those of
the same network on the same crops in this process, the Grad-CAM strip comes on demand, bad input gets a message."""

from __future__ import annotations

import pytest
import torch
from helpers.pages import serve

from bodily_tsn.app import ClipScorer
from bodily_tsn.dataset import LABELS, VIDEO_SUBDIR
from bodily_tsn.train_EmoReact import get_args_parser, main
from shared_utils.runs import parse_args_with_config

pytestmark = pytest.mark.slow
TINY = ["--arch", "mobilenet_v2", "--num_segments", "2", "--crop_size", "32", "--scale_size", "36", "-b", "4",
        "--no_partialbn", "--lr", "0.01", "--device", "cpu", "--threads", "1", "--pretrained", "none", "--epochs", "1"]


@pytest.fixture(scope="module")
def page(demo_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("app_run")
    main(parse_args_with_config(get_args_parser(), [*TINY, "--input", "fusion", "--data_root", str(demo_root),
                                                    "--output", str(out), "--experiment", "fusion"]))
    checkpoint = out / "fusion" / "checkpoint_best.pt"
    with serve("bodily_tsn.app", "--checkpoint", str(checkpoint)) as url:
        from gradio_client import Client

        yield checkpoint, Client(url, verbose=False)


def test_scores_are_the_networks_and_the_strip_comes_on_demand(page, demo_root):
    from gradio_client import handle_file

    checkpoint, client = page
    video = sorted((demo_root / VIDEO_SUBDIR).glob("*.mp4"))[0]
    table, scores, strip, status = client.predict(handle_file(str(video)), None, "fusion", api_name="/score")
    torch.set_num_threads(1)
    expected, _, _ = ClipScorer(checkpoint).scores(video)
    assert set(scores) == {"fusion", "face", "body"} and list(scores["fusion"]) == LABELS
    for stream in scores:
        assert scores[stream] == pytest.approx(expected[stream], abs=2e-4)
    best = max(expected["fusion"], key=expected["fusion"].get)
    assert strip is None and status.startswith(f"**{best}**"), status
    table, _, strip, status = client.predict(handle_file(str(video)), LABELS[3], "body", api_name="/score")
    assert strip is not None and "scores of: body" in status
    assert table["data"][0][1] == max(expected["body"].values())  # the table is sorted by score


def test_bad_input_gets_a_message(page, tmp_path):
    from gradio_client import handle_file

    _, client = page
    (tmp_path / "notes.mp4").write_text("not a video\n")
    (tmp_path / "empty.mp4").write_bytes(b"")
    for name, message in (("notes.mp4", "not a video this page can read"), ("empty.mp4", "the file is empty")):
        table, scores, strip, status = client.predict(handle_file(str(tmp_path / name)), None, "fusion",
                                                      api_name="/score")
        assert message in status and not table["data"] and scores is None and strip is None, status


def test_in_a_browser_a_video_goes_in_and_scores_come_out(page, demo_root):
    import os
    from pathlib import Path

    from helpers.pages import browser_page

    checkpoint, client = page
    video = sorted((demo_root / VIDEO_SUBDIR).glob("*.mp4"))[0]
    with browser_page(client.src) as browser:
        browser.locator("#clip-input input[type=file]").set_input_files(str(video))
        browser.wait_for_timeout(500)
        browser.click("#run-clip")
        browser.wait_for_function("document.querySelector('#clip-status').innerText.includes('frames)')",
                                  timeout=60_000)
        assert "input: fusion" in browser.inner_text("#clip-status")
        if os.environ.get("PAGE_SCREENSHOTS"):
            browser.screenshot(path=str(Path(os.environ["PAGE_SCREENSHOTS"]) / "bodily_page.png"), full_page=True)
