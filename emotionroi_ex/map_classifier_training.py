"""The emotion-from-map classifier's training and test scoring (EmotionROI-ex's ROI classifier).

A ResNet (ResNet-50 by default) sees only the annotators' map (one channel, no pixels of the photo): if it
beats chance, the *shape and placement* of the stimulus region carries emotion information.  The scripts are
``train_ROI_clf.py`` and ``train_RIO_clf.py`` (the original's file name); both call
:func:`train_map_classifier`.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Subset

from emotionroi_ex import DATASET, EMOTIONS, PACKAGE
from emotionroi_ex.dataset import EmotionROI
from emotionroi_ex.model import build_map_classifier
from emotionroi_ex.optimization import build_optimizer
from emotionroi_ex.presets import MapOnlyPreset
from shared_utils import metrics, plotting
from shared_utils import weights as registry
from shared_utils.checkpoint import load_model_weights
from shared_utils.engine import collect_predictions, train_one_epoch
from shared_utils.files import resolve_data_kind
from shared_utils.recorder import RunRecorder, open_run
from shared_utils.results import Stopwatch, write_results
from shared_utils.runs import BEST_CHECKPOINT, LAST_CHECKPOINT, BestTracker
from shared_utils.runtime import Runtime
from shared_utils.splits import stratified_holdout


def train_map_classifier(args):
    """Train on the maps, pick the checkpoint, score the test split; returns the run folder."""
    args.data_kind = resolve_data_kind(args.data_path)  # from the data, before any run folder
    watch = Stopwatch()
    pretrained = registry.local_file(args.pretrained, "--pretrained")  # before any run folder exists
    rt = Runtime.from_namespace(args)
    experiment = args.experiment or f"roi_clf_{args.backbone}"
    train_full = EmotionROI(args.data_path, "train", MapOnlyPreset(args.input_size, train=True,
                                                                  scale=tuple(args.crop_scale)))
    train_eval = EmotionROI(args.data_path, "train", MapOnlyPreset(args.eval_size, train=False))
    test_set = EmotionROI(args.data_path, "test", MapOnlyPreset(args.eval_size, train=False))
    train_idx, val_idx = (idx.tolist() for idx in stratified_holdout(train_full.labels, args.val_fraction, 0))
    if not train_idx:
        raise SystemExit(f"error: --val-fraction {args.val_fraction} leaves no training map")
    run_dir, log = open_run(args.output, experiment, args, rt)
    log.info(f"{experiment}: {len(train_idx)} train / {len(val_idx)} val / {len(test_set)} test maps; {rt.describe()}")

    model = rt.prepare_model(build_map_classifier(args.backbone, pretrained))
    optimizer, scheduler = build_optimizer(args, model)
    smoothing = args.label_smoothing

    def loss_fn(net, batch, runtime):
        maps, _, labels, _ = batch
        logits = net(runtime.to_device(maps))
        return F.cross_entropy(logits.float(), labels.to(runtime.device), label_smoothing=smoothing), maps.shape[0]

    def predict_fn(net, batch, runtime):
        maps, _, labels, index = batch
        return {"logits": net(runtime.to_device(maps)), "label": labels, "index": index}

    # Kahsolt's DataLoader keeps the last, smaller batch; native-size maps are evaluated one at a time
    train_loader = rt.loader(Subset(train_full, train_idx), args.batch_size, train=True, num_workers=args.workers,
                             drop_last=False)
    eval_batch = args.batch_size if args.eval_size else 1
    eval_loader = lambda ds: rt.loader(ds, eval_batch, train=False, num_workers=args.workers)  # noqa: E731
    val_loader = eval_loader(Subset(train_eval, val_idx)) if val_idx else None
    recorder = RunRecorder(run_dir, BestTracker("val_accuracy", mode="max"), rt)
    start_epoch, _ = recorder.start(args.resume, model, optimizer, scheduler, log)
    for epoch in range(start_epoch, args.epochs):
        rt.set_epoch(train_loader, epoch)
        row = {"epoch": epoch + 1, **train_one_epoch(model, train_loader, optimizer, loss_fn, rt, epoch,
                                                      max_steps=args.max_steps_per_epoch)}
        scheduler.step()
        if val_loader is not None:
            preds = collect_predictions(model, val_loader, predict_fn, rt, desc="val")
            row["val_accuracy"] = metrics.accuracy(preds["label"].numpy(), preds["logits"].argmax(1).numpy())
        # without a validation split every epoch counts as the best (the last one is kept)
        recorder.end_epoch(epoch + 1, row, row.get("val_accuracy", float(epoch + 1)), model, optimizer, scheduler)
        log.info(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))

    recorder.finish()  # every rank waits for rank 0's checkpoints
    weights = run_dir / (BEST_CHECKPOINT if args.eval_checkpoint == "best" else LAST_CHECKPOINT)
    load_model_weights(rt.unwrap(model), weights)
    preds = collect_predictions(model, eval_loader(test_set), predict_fn, rt, desc="test")
    order = torch.argsort(preds["index"])
    y_true, y_pred = preds["label"][order].numpy(), preds["logits"][order].argmax(1).numpy()
    if rt.is_main:
        result = metrics.classification_summary(y_true, y_pred, EMOTIONS)
        majority = metrics.majority_class(np.asarray(train_full.labels)[train_idx], len(EMOTIONS))
        baseline = metrics.classification_summary(y_true, np.full_like(y_true, majority), EMOTIONS)
        result["chance_accuracy"] = 1.0 / len(EMOTIONS)
        plotting.plot_confusion_matrix(metrics.confusion_matrix(y_true, y_pred, len(EMOTIONS)), EMOTIONS,
                                       run_dir / "confusion_matrix.png", title="emotion from the stimuli map alone")
        write_results(run_dir, package=PACKAGE, experiment=experiment, dataset=DATASET, data=args.data_kind,
                      split="test", metrics=result, baseline=baseline, device=rt.device_name(),
                      wall_seconds=watch.seconds, extra={"weights": str(weights), "majority_class": EMOTIONS[majority]})
        log.info(f"test accuracy from maps alone {result['accuracy']:.4f} (chance {1 / len(EMOTIONS):.4f}, "
                 f"majority class {baseline['accuracy']:.4f}); results in {run_dir / 'results.json'}")
    rt.close()
    return run_dir

