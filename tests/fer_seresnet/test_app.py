"""The faces page (fer_seresnet/app.py), served for real: its API gives what ``predict`` gives, bad uploads get a
message, and in a headless browser a photo goes in and a label comes out."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from helpers.pages import browser_page, serve
from PIL import Image

from fer_seresnet.faces import FacePredictor, predict_image

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def faces_page():
    with serve("fer_seresnet.app") as url:
        from gradio_client import Client

        yield url, Client(url, verbose=False)


def test_api_gives_what_predict_gives(faces_page, shared):
    _, client = faces_page
    from gradio_client import handle_file

    photo = shared("data/samples/multi_face.jpg")
    annotated, faces, status = client.predict(handle_file(str(photo)), False, api_name="/predict_photo")
    expected = predict_image(FacePredictor(device="cpu"), photo)[0]["faces"]
    assert len(faces) == len(expected) >= 3 and status.startswith(f"{len(expected)} face(s)")
    for got, want in zip(faces, expected):
        assert got["box"] == want["box"] and got["label"] == want["label"]
        assert got["probs"] == pytest.approx(want["probs"], abs=2e-4)
    assert Image.open(annotated).size == Image.open(photo).size  # the whole photo, annotated, never squashed


def test_bad_uploads_get_a_message(faces_page, tmp_path):
    _, client = faces_page
    from gradio_client import handle_file

    (tmp_path / "notes.txt").write_text("not a photo\n")
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "cut.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut short")
    Image.new("L", (8000, 6250)).save(tmp_path / "huge.png")  # 50 megapixels
    Image.fromarray(np.full((240, 320, 3), 128, np.uint8)).save(tmp_path / "grey.png")
    expected = {"notes.txt": "not an image this page can read", "empty.jpg": "the file is empty",
                "cut.jpg": "not an image this page can read", "huge.png": "50 megapixels; this page takes up to 40",
                "grey.png": "No face found"}
    for name, message in expected.items():
        image, faces, status = client.predict(handle_file(str(tmp_path / name)), False, api_name="/predict_photo")
        assert image is None and not faces and message in status, (name, status)
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video")
    *outputs, status = client.predict(handle_file(str(tmp_path / "broken.mp4")), 10,
                                      api_name="/predict_video")
    assert "not a video this page can read" in status and all(o is None for o in outputs)


def test_video_gives_emotions_over_time(faces_page, shared):
    _, client = faces_page
    from gradio_client import handle_file

    clip = shared("data/samples/single_face.mp4")
    frame, plot, record, status = client.predict(handle_file(str(clip)), 10, api_name="/predict_video")
    with_faces = [f for f in record["frames"] if f["faces"]]
    assert with_faces and status.startswith(f"Faces in {len(with_faces)} of the {len(record['frames'])} frames")
    assert Image.open(plot).size[0] > 400 and frame is not None


def test_in_a_browser_a_photo_goes_in_and_a_label_comes_out(faces_page, shared):
    url, _ = faces_page
    photo = shared("data/samples/0-f15-hao-ph.jpg")
    with browser_page(url) as page:
        assert "Uploads up to 25MB" in page.inner_text("body")
        page.locator("#photo-input input[type=file]").set_input_files(str(photo))
        page.wait_for_timeout(500)
        page.click("#run-upload")
        page.wait_for_function("document.querySelector('#upload-status') && "
                               "document.querySelector('#upload-status').innerText.includes('face(s)')",
                               timeout=60_000)
        status = page.inner_text("#upload-status")
        top_labels = [line.split("—")[0].strip() for line in status.splitlines() if "—" in line]
        assert top_labels == ["happy"], status  # the posed happy face (file name "hao")
        if os.environ.get("PAGE_SCREENSHOTS"):  # README screenshot, from this very page
            page.screenshot(path=str(Path(os.environ["PAGE_SCREENSHOTS"]) / "faces_page.png"), full_page=True)
