"""What train_EmoReact.py minimises: each stream's binary cross-entropy on the eight labels (the original sums the face
and body losses, trainer/trainer.py:90-100), plus the optional valence regression."""

from __future__ import annotations

import torch.nn.functional as F

VALENCE_CENTRE, VALENCE_HALF_RANGE = 4.0, 3.0  # valence 1..7 -> [-1, 1] for the regression head


def make_loss_fn(args):
    def loss_fn(model, batch, rt):
        out = model(rt.to_device(batch["frames"]))
        labels = batch["labels"].to(rt.device)
        stream_logits = out["stream_logits"]
        # Each stream is supervised on its own (the original sums the face and body losses).
        loss = sum(F.binary_cross_entropy_with_logits(stream_logits[:, s].float(), labels)
                   for s in range(stream_logits.shape[1]))
        if args.valence:
            target = (batch["valence"].to(rt.device) - VALENCE_CENTRE) / VALENCE_HALF_RANGE
            loss = loss + args.valence_weight * F.mse_loss(out["valence"].float(), target)
        return loss, labels.shape[0]

    return loss_fn
