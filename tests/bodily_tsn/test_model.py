from __future__ import annotations

import pytest
import torch

from bodily_tsn.model import BodilyTSN, TemporalShift, build_trunk, temporal_shift


def test_temporal_shift_moves_channel_folds_between_neighbouring_segments():
    # 1 clip, 3 segments, 4 channels, fold_div 4: channel 0 from t+1, channel 1 from t-1, rest stay
    x = torch.arange(3 * 4, dtype=torch.float32).view(3, 4, 1, 1) + 1  # value = 4*t + c + 1
    y = temporal_shift(x, num_segments=3, fold_div=4).view(3, 4)
    assert y[:, 0].tolist() == [5, 9, 0]
    assert y[:, 1].tolist() == [0, 2, 6]
    assert y[:, 2:].tolist() == x.view(3, 4)[:, 2:].tolist()


@pytest.mark.parametrize("arch, place, expected", [("mobilenet_v2", "blockres", 10), ("mobilenet_v2", "block", 10),
                                                   ("resnet50", "blockres", 16)])
def test_shift_is_inserted_in_both_trunks_and_mixes_time(arch, place, expected):
    torch.manual_seed(0)
    model = BodilyTSN("face", arch, num_segments=2, shift=True, shift_place=place, partial_bn=False).eval()
    tower = model.tower("face")
    assert tower.num_shifts == expected == sum(isinstance(m, TemporalShift) for m in tower.trunk.modules())
    clip = torch.randn(1, 2, 3, 32, 32)
    with torch.no_grad():
        base = tower.trunk(clip.flatten(0, 1))
        changed = clip.clone()
        changed[:, 1] += 1.0  # perturb only the second segment
        after = tower.trunk(changed.flatten(0, 1))
    def relative_change(a, b):
        return float((a - b).abs().max() / a.abs().max())

    assert relative_change(base[0], after[0]) > 1e-3  # segment 0 now sees segment 1
    plain = BodilyTSN("face", arch, num_segments=2, shift=False, partial_bn=False).eval().tower("face")
    with torch.no_grad():
        assert relative_change(plain.trunk(clip.flatten(0, 1))[0], plain.trunk(changed.flatten(0, 1))[0]) < 1e-5


def test_partial_bn_freezes_all_but_first_batchnorm():
    model = BodilyTSN("face", "mobilenet_v2", num_segments=2, partial_bn=True).train()
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns[0].training and bns[0].weight.requires_grad
    assert not any(bn.training or bn.weight.requires_grad for bn in bns[1:])
    before = [bn.running_mean.clone() for bn in bns[:2]]
    model(torch.randn(2, 1, 2, 3, 32, 32))
    assert not torch.equal(before[0], bns[0].running_mean)
    assert torch.equal(before[1], bns[1].running_mean)


def test_dropout_is_applied_in_training_only():
    torch.manual_seed(0)
    model = BodilyTSN("face", "mobilenet_v2", num_segments=2, dropout=0.5, partial_bn=False)
    torch.nn.init.normal_(model.tower("face").head.weight, 0, 0.1)
    torch.nn.init.zeros_(model.tower("face").head.bias)  # the default init's bias would dwarf the tiny features
    x = torch.randn(2, 1, 2, 3, 32, 32)
    model.train()
    for m in model.modules():  # keep BatchNorm deterministic; only dropout should differ
        if isinstance(m, torch.nn.BatchNorm2d):
            m.eval()
    a, b = model(x)["logits"], model(x)["logits"]
    assert not torch.allclose(a, b, rtol=1e-2, atol=0)
    model.eval()
    assert torch.allclose(model(x)["logits"], model(x)["logits"], rtol=1e-6, atol=0)


def test_fusion_late_fusion_shared_and_separate_trunks():
    shared = BodilyTSN("fusion", "mobilenet_v2", num_segments=2, partial_bn=False, valence=True).eval()
    separate = BodilyTSN("fusion", "mobilenet_v2", num_segments=2, partial_bn=False, valence=True, shared_trunk=False)
    n_shared = sum(p.numel() for p in shared.parameters())
    assert sum(p.numel() for p in separate.parameters()) == 2 * n_shared
    out = shared(torch.randn(3, 2, 2, 3, 32, 32))
    assert out["logits"].shape == (3, 8) and out["stream_logits"].shape == (3, 2, 8) and out["valence"].shape == (3,)
    assert torch.allclose(out["logits"], out["stream_logits"].mean(1))
    with pytest.raises(ValueError, match="2 stream"):
        shared(torch.randn(1, 1, 2, 3, 32, 32))


def test_pretrained_path_loads_and_bad_path_fails_fast(tmp_path):
    import torchvision

    full = torchvision.models.mobilenet_v2(weights=None)
    path = tmp_path / "mnv2.pth"
    torch.save(full.state_dict(), path)
    trunk, dim = build_trunk("mobilenet_v2", path)
    assert dim == 1280
    assert torch.equal(trunk.features[0][0].weight, full.features[0][0].weight)
    with pytest.raises(SystemExit, match="missing.pth: file not found \\(nothing is downloaded"):
        build_trunk("mobilenet_v2", tmp_path / "missing.pth")
    torch.save({"conv.weight": torch.zeros(1)}, tmp_path / "other.pth")
    with pytest.raises(SystemExit, match="other.pth: does not fit this MobileNetV2"):
        build_trunk("mobilenet_v2", tmp_path / "other.pth")


# --------------------------------------------------------------------------- the original's weight files
def _random_like(keys_and_shapes: dict, seed: int) -> dict:
    g = torch.Generator().manual_seed(seed)
    return {k: torch.randn(shape, generator=g) for k, shape in keys_and_shapes.items()}


@pytest.mark.parametrize("shift", [False, True])
def test_original_affectnet_resnet50_files_load(tmp_path, shift, original_resnet50_file):
    path = tmp_path / ("TSM_adjusted_resnet50_best.pth" if shift else "adjusted_resnet50_best.pth")
    state = original_resnet50_file(path, shift, seed=int(shift))
    model = BodilyTSN("fusion", "resnet50", num_segments=2, shift=shift, pretrained=path)
    trunk = model.tower("face").trunk
    net = ".net" if shift else ""
    assert torch.equal(trunk.conv1.weight, state["features.0.weight"])
    assert torch.equal(trunk.bn1.running_var, state["features.1.running_var"])
    assert torch.equal(trunk.layer1[0].conv1.net.weight if shift else trunk.layer1[0].conv1.weight,
                       state[f"features.4.0.conv1{net}.weight"])
    assert torch.equal(trunk.layer4[2].bn3.weight, state["features.7.2.bn3.weight"])
    # a TSM file also fits a plain trunk (the shift has no weights), and a plain one a TSM trunk
    other = BodilyTSN("face", "resnet50", num_segments=2, shift=not shift, pretrained=path).tower("face").trunk
    assert torch.equal(other.layer3[1].conv2.weight, state["features.6.1.conv2.weight"])


def test_original_mobilenet_face_file_loads(tmp_path):
    import torchvision

    net = torchvision.models.mobilenet_v2(weights=None)
    sequential = torch.nn.Sequential(net.features, torch.nn.AdaptiveAvgPool2d(1))
    shapes = {f"module.features.{k}": v.shape for k, v in sequential.state_dict().items()}
    shapes.update({"module.classifier.0.weight": (7, 1280), "module.classifier.0.bias": (7,)})
    state = _random_like(shapes, seed=2)
    torch.save({"state_dict": state}, tmp_path / "mobilenet_face.pth")
    trunk, _ = build_trunk("mobilenet_v2", tmp_path / "mobilenet_face.pth")
    assert torch.equal(trunk.features[0][0].weight, state["module.features.0.0.0.weight"])
    assert torch.equal(trunk.features[18][1].running_mean, state["module.features.0.18.1.running_mean"])


def test_foreign_files_are_refused_naming_the_key(tmp_path, original_resnet50_file):
    state = original_resnet50_file(tmp_path / "a.pth", False, seed=3)
    state["features.9.extra"] = torch.zeros(3)
    torch.save({"state_dict": state}, tmp_path / "extra.pth")
    with pytest.raises(SystemExit, match=r"extra\.pth: does not fit this ResNet \(1 unexpected keys \(first: "
                                         r"features\.9\.extra"):
        build_trunk("resnet50", tmp_path / "extra.pth")
    del state["features.9.extra"], state["features.7.2.bn3.weight"]
    torch.save({"state_dict": state}, tmp_path / "short.pth")
    with pytest.raises(SystemExit, match=r"short\.pth: does not fit this ResNet \(1 missing keys \(first: "
                                         r"layer4\.2\.bn3\.weight"):
        build_trunk("resnet50", tmp_path / "short.pth")


def test_pretrained_affectnet_resolves_through_the_weights_cache(tmp_path, monkeypatch, original_resnet50_file):
    from bodily_tsn.model import resolve_pretrained

    monkeypatch.setenv("VISUAL_EMOTION_WEIGHTS", str(tmp_path))
    with pytest.raises(SystemExit, match=r"--pretrained affectnet: TSM_adjusted_resnet50_best\.pth .* is not at "
                                         r".*downloads are off .*download https://drive\.google"
                                         r"\.com/uc\?id=1I3Q9pOAxiFEteF72HeijC8Ef_8ECef3e by hand and put it at "
                                         r".*TSM_adjusted_resnet50_best\.pth"):
        resolve_pretrained("affectnet", "resnet50", shift=True)
    original_resnet50_file(tmp_path / "adjusted_resnet50_best.pth", False, seed=4)
    assert resolve_pretrained("affectnet", "resnet50", shift=False) == tmp_path / "adjusted_resnet50_best.pth"
    with pytest.raises(SystemExit, match=r"mobilenet_face\.pth .*1N0QARm9Zt5TiJ8mBkoZjCLlqm5uqVTqa"):
        resolve_pretrained("affectnet", "mobilenet_v2", shift=True)
    assert resolve_pretrained("none", "resnet50", shift=False) is None
    assert resolve_pretrained(str(tmp_path / "x.pth"), "resnet50", shift=False) == tmp_path / "x.pth"


def test_checkpoint_with_pickled_config_object_loads(tmp_path):
    """filby89's trainer (the original's base/base_trainer.py:206-213) pickles its config object beside the
    weights: it loads without running any of that class's code."""
    import subprocess
    import sys

    (tmp_path / "parse_config.py").write_text("class ConfigParser:\n    def __init__(self, d):\n"
                                              "        self.config = d\n")
    script = ("import torch, numpy as np; from parse_config import ConfigParser; "
              "torch.save({'state_dict': {'features.0.weight': torch.ones(2)}, 'monitor_best': np.float64(0.7), "
              "'config': ConfigParser({'arch': 'TSN'})}, 'cp.pth')")
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True)
    from shared_utils.checkpoint import read_state_dict

    assert torch.equal(read_state_dict(tmp_path / "cp.pth")["features.0.weight"], torch.ones(2))


def test_fusion_runs_the_shared_trunk_once_per_stream_body_first():
    """As the original's trainer (trainer/trainer.py:90-100): the body clip through the network, then the face clip.
    The training BatchNorm (partial BN keeps the first) then normalises each stream by its own batch statistics and
    updates its running statistics body first; one call over both streams would mix them."""
    import copy

    torch.manual_seed(0)
    model = BodilyTSN("fusion", "mobilenet_v2", num_segments=2, partial_bn=True).train()
    reference = copy.deepcopy(model)
    clips = torch.randn(2, 2, 2, 3, 32, 32)
    clips[:, 0] += 3.0  # the face stream far from the body stream: mixed statistics would show
    out = model(clips)
    tower = reference.tower("body")
    body = tower(clips[:, 1])
    face = tower(clips[:, 0])
    assert torch.allclose(out["stream_logits"][:, 0], face, atol=1e-5)
    assert torch.allclose(out["stream_logits"][:, 1], body, atol=1e-5)
    first_bn = next(m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    reference_bn = next(m for m in reference.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert torch.allclose(first_bn.running_mean, reference_bn.running_mean, atol=1e-6)
    mixed = BodilyTSN("fusion", "mobilenet_v2", num_segments=2, partial_bn=True).train()
    mixed.load_state_dict(copy.deepcopy(model.state_dict()))
    mixed_bn = next(m for m in mixed.modules() if isinstance(m, torch.nn.BatchNorm2d))
    before = first_bn.running_mean.clone()
    model(clips)
    mixed.tower("face")(clips.flatten(0, 1))  # one call over both streams: other running statistics
    assert not torch.allclose(first_bn.running_mean - before, mixed_bn.running_mean - before, atol=1e-4)
