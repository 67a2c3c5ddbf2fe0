"""The two-stream model, local weight files, masking, Grad-CAM on both streams."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers.hooks import hook_count
from torchvision import models

from emotic_context.dataset import black_out_person
from emotic_context.model import EmoticModel, build_trunk


def test_forward_shapes_and_feature_sizes():
    model = EmoticModel("resnet18", "resnet18").eval()
    cat, cont = model(torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32))
    assert cat.shape == (2, 26) and cont.shape == (2, 3)
    assert model.fuse[0].in_features == 1024
    trunk, dim = build_trunk("resnet50")
    assert dim == 2048 and trunk.eval()(torch.randn(1, 3, 32, 32)).shape == (1, 2048)


def test_local_weights_load_and_bad_files_fail_fast(tmp_path):
    reference = models.resnet18(weights=None, num_classes=365)  # a Places365-like classifier is ignored
    state = {"state_dict": {f"module.{k}": v for k, v in reference.state_dict().items()}}
    torch.save(state, tmp_path / "places.pth.tar")
    trunk, _ = build_trunk("resnet18", tmp_path / "places.pth.tar", "context")
    assert torch.equal(trunk.conv1.weight, reference.conv1.weight)
    with pytest.raises(SystemExit, match="context weights .*nope.pth: file not found"):
        build_trunk("resnet18", tmp_path / "nope.pth", "context")
    torch.save(models.resnet50(weights=None).state_dict(), tmp_path / "r50.pth")
    with pytest.raises(SystemExit, match="body weights .*r50.pth: does not fit this ResNet"):
        build_trunk("resnet18", tmp_path / "r50.pth", "body")


def test_black_out_person_zeroes_exactly_the_box():
    context = np.full((10, 20, 3), 200, np.uint8)
    masked = black_out_person(context, [0.25, 0.2, 0.5, 0.6])  # x 5..10, y 2..6
    assert (masked[2:6, 5:10] == 0).all()
    assert masked.sum() == context.sum() - 200 * 3 * 4 * 5
    assert (context == 200).all()  # the input is not modified


def test_gradcam_on_both_streams(tiny_run, tmp_path, capsys):
    from emotic_context.explain import explain_person, main
    from emotic_context.model import model_from_checkpoint

    run_dir, _ = tiny_run
    model, arch, _ = model_from_checkpoint(None, run_dir)
    arch = {**arch, "context_size": 96, "body_size": 64}  # big enough for a 3x3 / 2x2 last block
    # Make the score rise with every trunk feature, whatever the machine and the trained weights: then each
    # Grad-CAM weight is >= 0 and the map is positive wherever the last block is active (a trained tiny model
    # may have no positive evidence for a category, and Grad-CAM then rightly gives an all-zero map).
    with torch.no_grad():
        model.fuse[0].weight.abs_()
        model.fuse[1].weight.abs_()
        model.fuse[1].running_mean.zero_()
        model.fuse[1].running_var.fill_(1.0)
        model.fuse[1].bias.fill_(10.0)  # the ReLU after it stays open
        model.cat_head.weight.abs_()
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (80, 120, 3), dtype=np.uint8)
    maps = explain_person(model, arch, image, [10, 5, 60, 75], 16)
    assert maps["context"][0].shape == (96, 96) and maps["body"][0].shape == (64, 64)
    for heatmap, _ in maps.values():
        assert 0 <= heatmap.min() and heatmap.max() == pytest.approx(1.0) and heatmap.std() > 0.01
    assert hook_count(model) == 0
    from PIL import Image

    Image.fromarray(image).save(tmp_path / "p.png")
    path = main(["--experiment_path", str(run_dir), "--image", str(tmp_path / "p.png"), "--bbox", "10", "5", "60",
                 "75", "--category", "Happiness", "--out", str(tmp_path / "cam")])
    assert path.is_file()
    # at the run's 32 px the last block is 1x1: the maps cannot vary, and the command says so
    assert "the context map is all zero: at 32 px the last block's map is 1x1" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="unknown category 'Joy'"):
        main(["--experiment_path", str(run_dir), "--image", str(tmp_path / "p.png"), "--bbox", "1", "1", "5", "5",
              "--category", "Joy"])
