"""main.py's building blocks, from its options: the datasets, the model's input sizes, the loss and the optimiser
(main.py trains with them; bench.py times them)."""

from __future__ import annotations

from pathlib import Path

import torch

from emotic_context.dataset import VAD_SCALE, EmoticCacheDataset, EmoticImageDataset, read_port_csv
from emotic_context.losses import ContinuousLoss, DiscreteLoss
from emotic_context.presets import stream_transforms

# the options that define the network and its inputs (saved with the checkpoint)
ARCH_KEYS = ("context_model", "body_model", "mask_body", "context_size", "body_size")


def require_data_path(args) -> Path:
    if not args.data_path:
        raise SystemExit(f"error: --mode {args.mode} needs --data_path (the folder mat2py.py wrote)")
    path = Path(args.data_path)
    if not path.is_dir():
        raise SystemExit(f"error: {path}: --data_path is not a folder")
    return path


def build_dataset(args, arch: dict, split: str, train: bool):
    data_path = require_data_path(args)
    context_tf, body_tf = stream_transforms(train, jitter=args.jitter if train else 0.0)
    if args.data_source == "npy":
        return EmoticCacheDataset(data_path, split, context_tf, body_tf, mask_body=arch["mask_body"])
    image_dir = Path(args.image_dir) if args.image_dir else data_path.parent / "emotic"
    return EmoticImageDataset(read_port_csv(data_path / f"{split}.csv"), image_dir, context_tf, body_tf,
                              arch["context_size"], arch["body_size"], arch["mask_body"])


def arch_from_args(args, dataset=None) -> dict:
    arch = {key: getattr(args, key) for key in ARCH_KEYS}
    if isinstance(dataset, EmoticCacheDataset):  # the cache fixes the input sizes
        arch["context_size"] = int(dataset.arrays["context"].shape[1])
        arch["body_size"] = int(dataset.arrays["body"].shape[1])
    return arch


def loss_function(args, train_cat_counts):
    discrete = DiscreteLoss(args.discrete_loss_weight_type, train_counts=train_cat_counts)
    continuous = ContinuousLoss(args.continuous_loss_type, args.cont_margin)

    def loss_fn(model, batch, rt):
        context, body, cat, cont = (rt.to_device(t) for t in batch)
        pred_cat, pred_cont = model(context, body)
        discrete.weights = discrete.weights.to(pred_cat.device)
        cat_loss = discrete(pred_cat, cat)
        cont_loss = continuous(pred_cont * VAD_SCALE, cont * VAD_SCALE)
        return args.cat_loss_weight * cat_loss + args.cont_loss_weight * cont_loss, context.shape[0]

    return loss_fn


def build_optimizer(args, model) -> torch.optim.Optimizer:
    """The port's Adam (or SGD) over the parameters that train."""
    params = [p for p in model.parameters() if p.requires_grad]
    if args.optimizer == "adam":
        return torch.optim.Adam(params, lr=args.learning_rate, weight_decay=args.weight_decay)
    return torch.optim.SGD(params, lr=args.learning_rate, momentum=args.momentum, weight_decay=args.weight_decay)
