"""The optimiser and learning-rate schedule of the EmotionROI trainers (the map networks and the classifier)."""

from __future__ import annotations

import torch

from shared_utils.engine import weight_decay_groups


def build_optimizer(args, model):
    """SGD (momentum) or Adam; cosine (per epoch, to ``--lr-min``), step (x0.1 every ``--lr-step-size``) or constant.
    ``--wd-skip-norm-bias`` exempts 1-D parameters and the label embedding from weight decay (Kahsolt decays
    every parameter)."""
    def no_decay(name, param):
        return args.wd_skip_norm_bias and (param.ndim <= 1 or name.startswith("embd."))

    groups = weight_decay_groups(model, args.weight_decay, no_decay)
    if args.opt == "sgd":
        optimizer = torch.optim.SGD(groups, lr=args.lr, momentum=args.momentum)
    else:
        optimizer = torch.optim.Adam(groups, lr=args.lr)
    if args.lr_scheduler == "cosine":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(args.epochs, 1),
                                                               eta_min=args.lr_min)
    elif args.lr_scheduler == "step":
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=args.lr_step_size, gamma=0.1)
    else:
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 1.0)
    return optimizer, scheduler
