"""The epoch bookkeeping every trainer shares, in one object (the idea of timm's ``CheckpointSaver``).

    recorder = RunRecorder(run_dir, BestTracker("val_accuracy", "max", patience), rt)
    start_epoch, extra = recorder.start(args.resume, model, optimizer, scheduler, log)
    for epoch in range(start_epoch, args.epochs):
        ...
        improved = recorder.end_epoch(epoch + 1, row, val_accuracy, model, optimizer, scheduler, extra)
        if recorder.tracker.should_stop: break
    recorder.finish()

Each epoch: one ``summary.csv`` row; ``checkpoint_last.pt`` and, when the tracked value improved,
``checkpoint_best.pt``. Both are the same full training state (model, optimizer, scheduler, AMP scaler, epoch, RNG
states, the tracker and the trainer's ``extra`` record such as its model options), written atomically by rank 0,
so every consumer (evaluate, cam, infer) rebuilds a model one way and either file can be resumed from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from shared_utils import plotting
from shared_utils.checkpoint import load_checkpoint, restore_training_state, save_checkpoint, training_state
from shared_utils.runs import BEST_CHECKPOINT, LAST_CHECKPOINT, BestTracker, SummaryCSV, prepare_run_dir, save_args
from shared_utils.runtime import Runtime, get_logger


def open_run(output: str | Path, experiment: str, args, rt: Runtime):
    """The run folder for a training (new, or reopened with --resume; never reused silently), its args.yaml
    (rank 0) and its logger: ``(run_dir, log)``."""
    run_dir = prepare_run_dir(output, experiment, args.resume, args.overwrite, rt.is_main)
    rt.barrier()  # the other ranks wait until rank 0 has (re)made the folder
    if rt.is_main:
        save_args(run_dir, args)
    return run_dir, get_logger(run_dir, rt.is_main)


class RunRecorder:
    def __init__(self, run_dir: str | Path, tracker: BestTracker, rt: Runtime):
        self.run_dir = Path(run_dir)
        self.tracker = tracker
        self.rt = rt
        self.summary = SummaryCSV(self.run_dir / "summary.csv")

    def resume(self, model: torch.nn.Module, optimizer, scheduler) -> tuple[int, dict[str, Any]]:
        """Restore the last checkpoint (weights, optimizer, scheduler, scaler, RNG, tracker); summary rows written
        after it are dropped. Returns (finished epochs, the checkpoint's extra record)."""
        start_epoch, extra = restore_training_state(load_checkpoint(self.run_dir / LAST_CHECKPOINT), model,
                                                    optimizer, scheduler, self.rt.scaler)
        if extra.get("tracker"):
            self.tracker.load_state_dict(extra["tracker"])
        self.summary.truncate(start_epoch)
        return start_epoch, extra

    def start(self, resume: bool, model: torch.nn.Module, optimizer, scheduler, log=None) -> tuple[int, dict]:
        """(0, {}) for a new run; with ``resume``, :meth:`resume` (logged)."""
        if not resume:
            return 0, {}
        start_epoch, extra = self.resume(model, optimizer, scheduler)
        if log is not None:
            best = "" if self.tracker.best is None else f" (best {self.tracker.metric} {self.tracker.best:.4g})"
            log.info(f"resumed {self.run_dir} after epoch {start_epoch}{best}")
        return start_epoch, extra

    def end_epoch(self, epoch: int, row: dict[str, Any], value: float, model: torch.nn.Module, optimizer,
                  scheduler, extra: dict[str, Any] | None = None) -> bool:
        """Record finished epoch ``epoch`` (1-based): the tracked ``value``, the summary row, the checkpoints.
        Returns whether ``value`` improved on the best so far."""
        improved = self.tracker.update(value, epoch)
        if self.rt.is_main:
            self.summary.append(row)
            state = training_state(model, optimizer, scheduler, self.rt.scaler, epoch,
                                   {**(extra or {}), "tracker": self.tracker.state_dict()})
            if improved:
                save_checkpoint(self.run_dir / BEST_CHECKPOINT, state)
            save_checkpoint(self.run_dir / LAST_CHECKPOINT, state)
        return improved

    def finish(self, columns: list[str] | None = None) -> None:
        """Learning curves from summary.csv; every rank waits until rank 0 has written the checkpoints."""
        if self.rt.is_main and self.summary.path.is_file():
            plotting.plot_learning_curves(self.summary.path, self.run_dir / "learning_curves.png", columns)
        self.rt.barrier()
