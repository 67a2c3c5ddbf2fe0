"""Counting the hooks left on a model (Grad-CAM objects must release theirs)."""

import torch


def hook_count(model: torch.nn.Module) -> int:
    """Forward, backward and pre-hooks registered anywhere in ``model`` (tests check it returns to 0)."""
    total = 0
    for module in model.modules():
        total += len(module._forward_hooks) + len(module._forward_pre_hooks) + len(module._backward_hooks)
        total += len(getattr(module, "_backward_pre_hooks", {}))
    return total
