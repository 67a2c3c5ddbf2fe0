"""A small but real training run through shared_utils (used by the resume and DDP tests).

Run directly under torchrun it trains and saves the final weights to the path given as argv[1].
The model has dropout and the data pipeline random augmentation, so an exact resume needs the
RNG states as well as the weights and optimizer.
"""

import sys

import torch
from torch import nn
from torch.utils.data import Dataset

from shared_utils.engine import train_one_epoch
from shared_utils.runtime import Runtime


class NoisyBlobs(Dataset):
    """Two Gaussian blobs in 8-D; __getitem__ adds fresh noise (augmentation drawn from torch's RNG)."""

    def __init__(self, n=64, noise=0.1):
        self.noise = noise
        g = torch.Generator().manual_seed(123)
        self.y = torch.arange(n) % 2
        self.x = torch.randn(n, 8, generator=g) + self.y[:, None].float() * 1.5

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i] + self.noise * torch.randn(8), self.y[i]


def make_model(dropout=0.3):
    torch.manual_seed(7)
    return nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Dropout(dropout), nn.Linear(32, 2))


def loss_fn(model, batch, rt):
    x, y = (rt.to_device(t) for t in batch)
    return nn.functional.cross_entropy(model(x), y), len(y)


def make_optimizer(model):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    return optimizer, scheduler


def ddp_main(out_path, epochs=3, per_process_batch=8):
    rt = Runtime.from_args(device="cpu", seed=0, deterministic=True)
    model = rt.prepare_model(make_model(dropout=0.0))
    optimizer, scheduler = make_optimizer(model)
    data = NoisyBlobs(noise=0.0)  # per-rank noise would differ from the 1-process run
    loader = rt.loader(data, per_process_batch, train=True)
    for epoch in range(epochs):
        rt.set_epoch(loader, epoch)
        train_one_epoch(model, loader, optimizer, loss_fn, rt, epoch)
        scheduler.step()
    if rt.is_main:
        torch.save(rt.unwrap(model).state_dict(), out_path)
    rt.close()


if __name__ == "__main__":
    ddp_main(sys.argv[1])
