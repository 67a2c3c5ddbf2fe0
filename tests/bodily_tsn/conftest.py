"""A tiny demo EmoReact shared by the bodily_tsn tests (built once per session)."""

from __future__ import annotations

import pytest
import torch
import torchvision

from bodily_tsn.demo_data import make_demo_dataset


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory):
    return make_demo_dataset(tmp_path_factory.mktemp("emoreact_demo"), {"train": 8, "val": 4, "test": 4},
                             show_progress=False)


def _write_original_resnet50_file(path, shift: bool, seed: int) -> dict:
    """Random weights in the original's AffectNet ResNet-50 layout (EmoReact/models.py:115-151):
    {"state_dict": "features." + keys of nn.Sequential(*list(resnet50.children())[:-1]) (TSM files: each
    shifted conv1 as conv1.net), plus the heads it drops}. Returns the state_dict written."""
    with torch.random.fork_rng():  # a trainable network (He init, plausible BN statistics), distinct per seed
        torch.manual_seed(seed)
        sequential = torch.nn.Sequential(*list(torchvision.models.resnet50(weights=None).children())[:-1])
        for module in sequential.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.normal_(0, 0.1)
                module.running_var.uniform_(0.5, 1.5)
                module.weight.data.uniform_(0.5, 1.0)
    state = {}
    for key, value in sequential.state_dict().items():
        if shift and ".conv1." in key and key.split(".")[0] in "4567":
            key = key.replace(".conv1.", ".conv1.net.")
        state[f"features.{key}"] = value
    state.update({"classifier.0.weight": torch.zeros(7, 2048), "classifier.0.bias": torch.zeros(7),
                  "categorical_layer.weight": torch.zeros(8, 7), "continuous_layer.weight": torch.zeros(3, 7)})
    torch.save({"arch": "TSN", "epoch": 30, "state_dict": state}, path)
    return state


@pytest.fixture
def original_resnet50_file():
    """``original_resnet50_file(path, shift, seed) -> state_dict`` (see _write_original_resnet50_file)."""
    return _write_original_resnet50_file
