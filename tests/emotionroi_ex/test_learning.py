"""The networks can actually learn their task (a few optimiser steps on fixed tiny batches)."""

import torch
import torch.nn.functional as F

from emotionroi_ex.model import build_fcnel, build_map_classifier, euclidean_loss


def _blob_batch(n=4, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    images, maps = torch.randn(n, 3, size, size, generator=g) * 0.1, torch.zeros(n, 1, size, size)
    for k in range(n):
        y, x = torch.randint(4, size - 12, (2,), generator=g).tolist()
        images[k, 0, y : y + 8, x : x + 8] += 2.0  # a red square is the stimulus
        maps[k, 0, y : y + 8, x : x + 8] = 1.0
    return images, maps


def test_fcnel_learns_to_mark_the_stimulus():
    torch.manual_seed(0)
    model = build_fcnel("fcn_resnet50", "resnet50")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    images, maps = _blob_batch()
    losses = []
    for _ in range(30):
        loss = euclidean_loss(model(images), maps, "mean")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        pred = model(images)
    assert losses[-1] < 0.5 * losses[0]
    assert pred[maps > 0.5].mean() > pred[maps < 0.5].mean() + 0.1  # higher inside the stimulus than outside


def test_map_classifier_learns_shapes_from_maps_alone():
    torch.manual_seed(0)
    maps = torch.zeros(12, 1, 32, 32)
    labels = torch.arange(12) % 2
    for k in range(12):  # class 0: wide boxes, class 1: tall boxes
        if labels[k] == 0:
            maps[k, 0, 12:18, 4 + k % 3 : 26 + k % 3] = 1
        else:
            maps[k, 0, 4 + k % 3 : 26 + k % 3, 12:18] = 1
    model = build_map_classifier("resnet18", num_classes=2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(15):
        loss = F.cross_entropy(model(maps), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    # 15 steps leave BatchNorm's running averages far from the batch statistics the net learned with (conv1,
    # the mean of random RGB filters as Kahsolt's, starts with a tiny output variance): recompute them first
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None  # cumulative average: one pass gives the exact statistics
    with torch.no_grad():
        model(maps)
    model.eval()
    with torch.no_grad():
        assert (model(maps).argmax(1) == labels).float().mean() == 1.0
