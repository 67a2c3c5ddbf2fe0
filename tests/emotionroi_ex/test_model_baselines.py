import numpy as np
import pytest
import torch
import torchvision

from emotionroi_ex.baselines import MeanMapBaseline, center_bias, objectness, spectral_residual
from emotionroi_ex.model import EmoFCNEL, build_fcnel, build_map_classifier, euclidean_loss
from emotionroi_ex.scoring import score_map, summarize


@pytest.mark.parametrize("arch,backbone", [("fcn32s", "alexnet"), ("fcn32s", "resnet50"), ("fcn_resnet50", "resnet50")])
def test_fcnel_output_matches_any_input_size(arch, backbone):
    model = build_fcnel(arch, backbone).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 45, 61))
    assert out.shape == (1, 1, 45, 61)
    assert torch.count_nonzero(out) == 0  # the scorer starts at zero, as in FCN and Kahsolt's get_model


def test_fcn_resnet50_is_torchvisions_network_with_nearest_exact_upsampling():
    torch.manual_seed(0)
    model = build_fcnel("fcn_resnet50", "resnet50").eval()
    reference = torchvision.models.segmentation.fcn_resnet50(weights=None, weights_backbone=None, num_classes=1)
    # the same modules and parameter shapes as torchvision's fcn_resnet50 (no hand-written copy)
    assert {k: v.shape for k, v in model.state_dict().items()} == \
        {k: v.shape for k, v in reference.state_dict().items()}
    assert model.backbone.layer4[1].conv2.dilation == (4, 4) and model.backbone.layer3[1].conv2.dilation == (2, 2)
    torch.nn.init.normal_(model.classifier[4].weight, std=0.1)
    x = torch.randn(1, 3, 48, 64)
    with torch.no_grad():
        out = model(x)
        coarse = model.classifier(model.backbone(x)["out"])
    assert coarse.shape[-2:] == (6, 8)  # output stride 8
    assert torch.equal(out, torch.nn.functional.interpolate(coarse, size=(48, 64), mode="nearest-exact"))
    assert torch.equal(out[0, 0, :8, :8], coarse[0, 0, 0, 0].expand(8, 8))  # x8 blocks, as FCN_forward_hijack
    bilinear = build_fcnel("fcn_resnet50", "resnet50", upsample="bilinear").eval()
    bilinear.load_state_dict(model.state_dict())
    with torch.no_grad():
        assert not torch.equal(bilinear(x), out)


def test_emofcnel_label_changes_the_input():
    torch.manual_seed(0)
    model = EmoFCNEL("fcn_resnet50", "resnet50", embed_dim=6).eval()
    torch.nn.init.normal_(model.base.classifier[4].weight, std=0.1)
    x = torch.randn(1, 3, 40, 40)
    with torch.no_grad():
        a, b = model(x, torch.tensor([0])), model(x, torch.tensor([3]))
    assert a.shape == (1, 1, 40, 40) and not torch.allclose(a, b)
    assert model.base.backbone.conv1.in_channels == 9 and model.embd.weight.shape == (6, 6)


def _random_state(module: torch.nn.Module, seed: int) -> dict:
    """A state_dict of ``module``'s layout filled with random values (so "the values arrived" is testable)."""
    g = torch.Generator().manual_seed(seed)
    return {k: (torch.randn(v.shape, generator=g) if v.is_floating_point() else v.clone())
            for k, v in module.state_dict().items()}


def test_torchvision_fcn_resnet50_coco_file_loads(tmp_path):
    """fcn_resnet50_coco-1167a1af.pth layout: 21-class heads and an auxiliary head."""
    coco = _random_state(torchvision.models.segmentation.fcn_resnet50(
        weights=None, weights_backbone=None, num_classes=21, aux_loss=True), seed=1)
    assert any(k.startswith("aux_classifier.") for k in coco) and coco["classifier.4.weight"].shape[0] == 21
    torch.save(coco, tmp_path / "fcn_resnet50_coco.pth")
    model = build_fcnel("fcn_resnet50", "resnet50", str(tmp_path / "fcn_resnet50_coco.pth"))
    own = model.state_dict()
    for key in ("backbone.conv1.weight", "backbone.layer4.2.conv3.weight", "backbone.bn1.running_mean",
                "classifier.0.weight", "classifier.1.running_var"):
        assert torch.equal(own[key], coco[key]), key
    # the COCO scorer does not fit one channel: Kahsolt's zero-initialised scorer stays
    assert torch.count_nonzero(own["classifier.4.weight"]) == 0 and torch.count_nonzero(own["classifier.4.bias"]) == 0
    # EmoFCNEL from the same file: the RGB filters copied, the label channels keep their own initialisation
    torch.manual_seed(0)
    emo = EmoFCNEL("fcn_resnet50", "resnet50", str(tmp_path / "fcn_resnet50_coco.pth"), embed_dim=6)
    conv = emo.base.backbone.conv1.weight
    assert torch.equal(conv[:, :3], coco["backbone.conv1.weight"]) and conv[:, 3:].abs().sum() > 0
    assert torch.equal(emo.base.backbone.layer2[1].conv1.weight, coco["backbone.layer2.1.conv1.weight"])


def test_kahsolts_trained_files_load_as_saved(tmp_path):
    """His model-FCNEL.pth (FCN with one-channel scorer and the unused aux head), model-EmoFCNEL.pth
    (base.* + embd.weight) and model-RIO_clf.pth (a plain ResNet-50, 1-channel conv1, 6-way fc)."""
    fcn = torchvision.models.segmentation.fcn_resnet50(weights=None, weights_backbone=None, num_classes=21,
                                                       aux_loss=True)
    fcn.classifier[4] = torch.nn.Conv2d(512, 1, 1)
    his_fcnel = _random_state(fcn, seed=2)
    torch.save(his_fcnel, tmp_path / "model-FCNEL.pth")
    model = build_fcnel("fcn_resnet50", "resnet50", str(tmp_path / "model-FCNEL.pth"))
    for key, value in model.state_dict().items():
        assert torch.equal(value, his_fcnel[key]), key

    emo = EmoFCNEL("fcn_resnet50", "resnet50", embed_dim=6)
    his_emo = _random_state(emo, seed=3)
    assert "embd.weight" in his_emo and his_emo["base.backbone.conv1.weight"].shape[1] == 9
    torch.save(his_emo, tmp_path / "model-EmoFCNEL.pth")
    loaded = EmoFCNEL("fcn_resnet50", "resnet50", str(tmp_path / "model-EmoFCNEL.pth"), embed_dim=6)
    for key, value in loaded.state_dict().items():
        assert torch.equal(value, his_emo[key]), key

    clf = torchvision.models.resnet50(weights=None)
    clf.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)
    clf.fc = torch.nn.Linear(2048, 6)
    his_clf = _random_state(clf, seed=4)
    torch.save(his_clf, tmp_path / "model-RIO_clf.pth")
    loaded_clf = build_map_classifier("resnet50", str(tmp_path / "model-RIO_clf.pth"))
    for key, value in loaded_clf.state_dict().items():
        assert torch.equal(value, his_clf[key]), key


def test_imagenet_resnet50_file_fills_the_backbone(tmp_path):
    imagenet = _random_state(torchvision.models.resnet50(weights=None), seed=5)
    torch.save(imagenet, tmp_path / "resnet50.pth")
    model = build_fcnel("fcn_resnet50", "resnet50", str(tmp_path / "resnet50.pth"))
    for key, value in model.backbone.state_dict().items():
        assert torch.equal(value, imagenet[key]), key
    assert torch.count_nonzero(model.classifier[4].weight) == 0
    # the classifier: conv1 = the mean of the RGB filters (Kahsolt's train_RIO_clf.py), fc replaced
    clf = build_map_classifier("resnet50", str(tmp_path / "resnet50.pth"))
    assert torch.allclose(clf.conv1.weight, imagenet["conv1.weight"].mean(1, keepdim=True))
    assert torch.equal(clf.layer3[0].conv1.weight, imagenet["layer3.0.conv1.weight"])
    assert clf.fc.out_features == 6 and torch.count_nonzero(clf.fc.bias) == 0
    # the paper's FCN-32s on a ResNet-50 trunk takes the same file
    fcn32 = build_fcnel("fcn32s", "resnet50", str(tmp_path / "resnet50.pth"))
    assert torch.equal(fcn32.trunk.layer1[0].conv1.weight, imagenet["layer1.0.conv1.weight"])


def test_pretrained_alexnet_fc_layers_become_convolutions(tmp_path):
    reference = torchvision.models.alexnet(weights=None)
    torch.save(reference.state_dict(), tmp_path / "alex.pth")
    trunk = build_fcnel("fcn32s", "alexnet", pretrained=str(tmp_path / "alex.pth")).trunk.eval()
    reference.eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():  # at 224 input the 6x6 fc6 window at (2, 2) sees exactly the classifier's input
        pooled = reference.avgpool(reference.features(x)).flatten(1)
        fc7 = torch.relu(reference.classifier[4](torch.relu(reference.classifier[1](pooled))))
        conv = trunk(x)
    assert conv.shape[-2:] == (6, 6)
    assert torch.allclose(conv[0, :, 2, 2], fc7[0], atol=1e-4)
    # Caffe's element-wise dropout in fc6/fc7, not channel dropout
    assert [type(m) for m in trunk.head if "Dropout" in type(m).__name__] == [torch.nn.Dropout] * 2


def test_bad_choices_and_foreign_files_fail_clearly(tmp_path):
    with pytest.raises(SystemExit, match="--backbone resnet18 needs --arch fcn32s"):
        build_fcnel("fcn_resnet50", "resnet18")
    with pytest.raises(SystemExit, match="unknown --arch 'fcn8s'"):
        build_fcnel("fcn8s", "resnet50")
    with pytest.raises(SystemExit, match=r"none\.pth: file not found \(nothing is downloaded"):
        build_fcnel("fcn32s", "resnet18", pretrained=str(tmp_path / "none.pth"))
    torch.save({"x": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(SystemExit, match=r"resnet18 ImageNet weights\) .*bad\.pth: does not fit this ResNet"):
        build_fcnel("fcn32s", "resnet18", pretrained=str(tmp_path / "bad.pth"))
    with pytest.raises(SystemExit, match=r"bad\.pth: does not fit this FCNResNet50 \(\d+ missing keys \(first: "
                                         r"backbone\.bn1\.bias"):
        build_fcnel("fcn_resnet50", "resnet50", pretrained=str(tmp_path / "bad.pth"))
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), tmp_path / "r18.pth")
    with pytest.raises(SystemExit, match=r"r18\.pth: does not fit this FCNResNet50 \(\d+ missing keys \(first: "
                                         r"backbone\.layer1\.0\.bn3"):
        build_fcnel("fcn_resnet50", "resnet50", pretrained=str(tmp_path / "r18.pth"))
    torch.save([torch.zeros(1)], tmp_path / "list.pth")
    with pytest.raises(SystemExit, match=r"list\.pth: expected a state_dict of tensors, found list"):
        build_map_classifier("resnet18", str(tmp_path / "list.pth"))


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
    assert c.min() == 0 and c.max() == pytest.approx(1)  # an arbitrary-scale prior, scaled on its own side
    m = MeanMapBaseline(np.eye(8, dtype=np.float32))(np.zeros((20, 30, 3), np.uint8))
    assert m.shape == (20, 30)


def test_scoring_perfect_wrong_and_resized():
    gt = np.zeros((40, 50), np.float32)
    gt[10:20, 10:30] = 1
    assert score_map(gt, gt)["mae"] == 0
    # the paper's MAE on the ground truth's own scale: a dimmed, raised copy is not a perfect map
    assert score_map(gt * 0.3 + 0.1, gt)["mae"] == pytest.approx(0.1 * 0.9 + 0.6 * 0.1)
    assert score_map(gt * 3 - 1, gt)["mae"] == 0  # regression outputs are clamped to [0, 1] first
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
