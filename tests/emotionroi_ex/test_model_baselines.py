import numpy as np
import pytest
import torch
import torchvision

from emotionroi_ex.baselines import MeanMapBaseline, center_bias, objectness, spectral_residual
from emotionroi_ex.evaluate import score_map, summarize
from emotionroi_ex.model import FCNEL, EmoFCNEL, MapClassifier, euclidean_loss


@pytest.mark.parametrize("arch,backbone", [("fcn32s", "alexnet"), ("fcn32s", "resnet50"), ("fcn8s", "resnet18")])
def test_fcnel_output_matches_any_input_size(arch, backbone):
    model = FCNEL(arch, backbone).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 45, 61))
    assert out.shape == (1, 1, 45, 61)
    assert torch.count_nonzero(out) == 0  # score layers start at zero, as in FCN


def test_fcn8s_uses_the_finer_stages():
    torch.manual_seed(0)
    model = FCNEL("fcn8s", "resnet18").eval()
    for layer in (model.score32, model.score16, model.score8):
        torch.nn.init.normal_(layer.weight, std=0.1)
    with torch.no_grad():
        full = model(torch.randn(1, 3, 64, 64))
        torch.nn.init.zeros_(model.score8.weight)
        without_stride8 = model(torch.randn(1, 3, 64, 64))
    assert not torch.allclose(full, without_stride8)


def test_emofcnel_label_changes_the_input():
    torch.manual_seed(0)
    model = EmoFCNEL("fcn8s", "resnet18", embed_dim=4).eval()
    torch.nn.init.normal_(model.fcn.score8.weight, std=0.1)
    x = torch.randn(1, 3, 40, 40)
    with torch.no_grad():
        a, b = model(x, torch.tensor([0])), model(x, torch.tensor([3]))
    assert a.shape == (1, 1, 40, 40) and not torch.allclose(a, b)
    assert model.fcn.trunk.stem[0].in_channels == 7


def test_pretrained_weights_load_and_extra_channels_start_at_zero(tmp_path):
    reference = torchvision.models.resnet18(weights=None)
    torch.save(reference.state_dict(), tmp_path / "r18.pth")
    model = EmoFCNEL("fcn8s", "resnet18", pretrained=str(tmp_path / "r18.pth"), embed_dim=2)
    conv = model.fcn.trunk.stem[0].weight
    assert torch.equal(conv[:, :3], reference.conv1.weight) and torch.count_nonzero(conv[:, 3:]) == 0
    assert torch.equal(model.fcn.trunk.layer4[1].conv2.weight, reference.layer4[1].conv2.weight)
    clf = MapClassifier("resnet18", pretrained=str(tmp_path / "r18.pth"))
    assert torch.allclose(clf.net.conv1.weight[:, 0], reference.conv1.weight.sum(1))


def test_pretrained_alexnet_fc_layers_become_convolutions(tmp_path):
    reference = torchvision.models.alexnet(weights=None)
    torch.save(reference.state_dict(), tmp_path / "alex.pth")
    trunk = FCNEL("fcn32s", "alexnet", pretrained=str(tmp_path / "alex.pth")).trunk.eval()
    reference.eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():  # at 224 input the 6x6 fc6 window at (2, 2) sees exactly the classifier's input
        pooled = reference.avgpool(reference.features(x)).flatten(1)
        fc7 = torch.relu(reference.classifier[4](torch.relu(reference.classifier[1](pooled))))
        conv = trunk(x)["c5"]
    assert conv.shape[-2:] == (6, 6)
    assert torch.allclose(conv[0, :, 2, 2], fc7[0], atol=1e-4)


def test_bad_choices_fail_clearly(tmp_path):
    with pytest.raises(SystemExit, match="fcn8s needs a ResNet"):
        FCNEL("fcn8s", "alexnet")
    with pytest.raises(SystemExit, match=r"none\.pth: file not found \(nothing is downloaded"):
        FCNEL("fcn32s", "resnet18", pretrained=str(tmp_path / "none.pth"))
    torch.save({"x": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(SystemExit, match=r"resnet18 ImageNet weights\) .*bad\.pth: does not fit this ResNet"):
        FCNEL("fcn32s", "resnet18", pretrained=str(tmp_path / "bad.pth"))


def test_euclidean_loss_scales():
    pred, target = torch.ones(2, 1, 4, 4), torch.zeros(2, 1, 4, 4)
    assert euclidean_loss(pred, target, "caffe").item() == pytest.approx(32 / 4)  # sum / (2N)
    assert euclidean_loss(pred, target, "mean").item() == pytest.approx(1.0)


def _scene():
    rng = np.random.default_rng(0)
    image = np.full((72, 96, 3), 120, np.uint8) + rng.integers(0, 6, (72, 96, 3)).astype(np.uint8)
    image[40:56, 60:80] = (250, 30, 30)  # one small salient object off-centre
    return image


def test_spectral_residual_and_objectness_find_the_object():
    image = _scene()
    for fn in (spectral_residual, objectness):
        m = fn(image)
        assert m.shape == (72, 96) and m.min() >= 0 and m.max() == pytest.approx(1)
        assert m[40:56, 60:80].mean() > 2 * m[:20, :30].mean(), fn.__name__


def test_center_bias_and_mean_map():
    c = center_bias(np.zeros((51, 71, 3), np.uint8))
    assert np.unravel_index(c.argmax(), c.shape) == (25, 35) and c[0, 0] < 0.03 and c[25, 0] < c[25, 20]
    m = MeanMapBaseline(np.eye(8, dtype=np.float32))(np.zeros((20, 30, 3), np.uint8))
    assert m.shape == (20, 30)


def test_scoring_perfect_wrong_and_resized():
    gt = np.zeros((40, 50), np.float32)
    gt[10:20, 10:30] = 1
    assert score_map(gt * 0.3 + 0.1, gt)["mae"] == pytest.approx(0)  # min-max scaling first
    wrong = 1 - gt
    assert score_map(wrong, gt)["mae"] == pytest.approx(1)
    small = gt[::2, ::2]  # a half-size prediction is resized to the ground truth
    assert score_map(small, gt)["mae"] < 0.1
    rows = np.array([[0.1] * 7, [0.3] * 7])
    s = summarize(rows, [0, 3])
    assert s["mae"] == pytest.approx(0.2) and s["mae/anger"] == pytest.approx(0.1) and s["mae/fear"] is None


@pytest.mark.shared_data
def test_baselines_and_inference_input_on_real_photos(shared):
    """Real photos (not EmotionROI, which is not in ../shared): baselines give full-size, non-trivial maps."""
    from emotionroi_ex.dataset import load_rgb
    from emotionroi_ex.infer import list_inputs

    folder = shared("data/samples")
    pairs = list_inputs(folder)
    assert len(pairs) == 6 and all(p.suffix == ".jpg" for p, _ in pairs)
    image = np.asarray(load_rgb(folder / "multi_face.jpg"))
    for fn in (spectral_residual, objectness, center_bias):
        m = fn(image)
        assert m.shape == image.shape[:2] and 0 <= m.min() and m.max() <= 1 and m.std() > 0.05, fn.__name__
    # the structured photo is not scored like a flat prior: saliency and centre bias disagree
    assert score_map(spectral_residual(image), center_bias(image))["mae"] > 0.05
