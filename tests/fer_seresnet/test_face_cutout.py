"""predict's face cut-out: the square around the detector's box, framed as FER2013's images are (measured on the
real Training holdout), with the Grad-CAM map laid back on the box."""

from __future__ import annotations

import numpy as np
import pytest

from fer_seresnet import framing
from fer_seresnet.faces import cam_on_box, crop_face, face_square
from fer_seresnet.options import FACE_BOX_SCALE


def test_the_cut_out_is_the_box_widened_about_its_centre():
    gray = np.arange(200 * 300, dtype=np.int64).reshape(200, 300) % 251
    gray = gray.astype(np.uint8)
    box = (100, 50, 148, 98)  # 48 px: at scale 1 no resampling
    assert np.array_equal(crop_face(gray, box, 1.0, 48), gray[50:98, 100:148])
    assert face_square(box, 1.5) == (88, 38, 72)  # centre kept, side 1.5x
    wide = crop_face(gray, box, 2.0, 96)  # 96 px square: again no resampling
    assert np.array_equal(wide, gray[26:122, 76:172])


def test_a_cut_out_past_the_edge_repeats_the_edge_and_never_squashes_the_photo():
    gray = np.zeros((100, 400), dtype=np.uint8)
    gray[:, :40] = 200  # a bright band on the left edge
    box = (0, 30, 40, 70)  # a face touching the left edge
    out = crop_face(gray, box, 2.0, 80)  # 80 px square from x = -20: 20 columns beyond the edge
    assert out.shape == (80, 80)
    assert (out[:, :60] == 200).all() and (out[:, 60:] == 0).all()  # the edge repeated, then the photo itself


def test_the_cam_map_is_laid_back_on_the_box():
    heat = np.ones((44, 44), dtype=np.float32)
    part = cam_on_box(heat, (100, 100, 200, 200), 1.2, 44)  # square 120 px, its centre crop 110 px
    assert part.shape == (100, 100) and (part > 0.99).all()
    part = cam_on_box(heat, (100, 100, 200, 200), 1.0, 44)  # the centre crop misses a 4-5 px rim of the box
    assert part.shape == (100, 100) and part[50, 50] > 0.99 and part[0, 0] == 0 and part[99, 99] == 0


@pytest.mark.shared_data
def test_fer2013_framing_is_what_predict_uses(real_fer2013):
    result = framing.main(["--data-path", str(real_fer2013), "--limit", "210", "--scales", "1.0", str(FACE_BOX_SCALE)])
    assert result["holdout_images"] == 210 and result["faces_found"] >= 100
    # FER2013's images are wider than the detector's box by predict's FACE_BOX_SCALE (README: the whole holdout)
    assert abs(result["median_scale"] - FACE_BOX_SCALE) < 0.06, result["median_scale"]
    assert abs(result["median_offset_x"]) < 0.05 and abs(result["median_offset_y"]) < 0.05
