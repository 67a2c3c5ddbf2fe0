"""Ship a trained run's best model: fp16 weights + the options to rebuild it, and a manifest of its origin.

    python -m fer_seresnet.export_model runs/fer_seresnet/fer2013_se_cnn_cpu45min \
        --out fer_seresnet/models/fer2013_se_cnn.pt

Reads the run folder the trainer wrote (``checkpoint_best.pt``, ``results.json``, ``args.yaml``) and writes
``--out`` (a checkpoint ``evaluate`` / ``predict`` load like any other, without optimiser or RNG state) and
``MANIFEST.json`` beside it: the file's sha256 and size, the training command and commit, and the test scores from
``results.json``. A run on demo data is refused: a shipped model is always a real one.
"""

# ruff: noqa: E402  (the imports after answer_help_first load torch: --help answers before them)

from __future__ import annotations

from fer_seresnet.options import export_model_parser as get_args_parser
from shared_utils.cli import answer_help_first

answer_help_first(get_args_parser, __name__)

import hashlib
import io
import json
from pathlib import Path

import torch

from shared_utils.checkpoint import load_checkpoint
from shared_utils.files import atomic_write, atomic_write_text


def half_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Floating-point tensors to fp16 (half the file); integer buffers (BatchNorm counters) unchanged."""
    return {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in state.items()}


def main(argv: list[str] | None = None) -> dict:
    args = get_args_parser().parse_args(argv)
    run_dir, out = Path(args.run_dir), Path(args.out)
    results_path = run_dir / "results.json"
    if not results_path.is_file():
        raise SystemExit(f"error: {results_path} not found: export a finished run (it writes results.json last)")
    results = json.loads(results_path.read_text())
    if results.get("package") != "fer_seresnet":
        raise SystemExit(f"error: {results_path}: not a fer_seresnet run")
    if results.get("data") != "real":
        raise SystemExit(f"error: {run_dir} was trained on {results.get('data')} data; only real runs are shipped")
    if out.exists() and not args.overwrite:
        raise SystemExit(f"error: {out} already exists; pass --overwrite to replace it")
    state = load_checkpoint(run_dir / "checkpoint_best.pt")
    options = state.get("extra", {}).get("model_options")
    if options is None:
        raise SystemExit(f"error: {run_dir / 'checkpoint_best.pt'}: no model_options (not a fer_seresnet checkpoint)")
    # model_options rebuild the network; train_class_counts give evaluate its majority-class baseline.
    kept = {key: state["extra"][key] for key in ("model_options", "train_class_counts") if key in state["extra"]}
    shipped = {"model": half_state_dict(state["model"]), "extra": kept, "epoch": state.get("epoch")}
    buffer = io.BytesIO()
    torch.save(shipped, buffer)
    payload = buffer.getvalue()
    atomic_write(out, lambda handle: handle.write(payload))

    extra = results.get("extra", {})
    entry = {
        "file": out.name,
        "sha256": hashlib.sha256(payload).hexdigest(),
        "bytes": len(payload),
        "dtype": "float16 weights (BatchNorm counters int64); evaluated in float32",
        "arch": options["arch"], "width": options["width"], "class_names": options.get("class_names"),
        "dataset": results.get("dataset"), "data": results["data"],
        "test_split": results.get("split"), "test_num_samples": extra.get("num_samples"),
        "test_accuracy_ten_crop" if extra.get("ten_crop") else "test_accuracy": results["metrics"]["accuracy"],
        "test_accuracy_centre_crop": (extra.get("centre_crop") or {}).get("accuracy"),
        "test_macro_f1": results["metrics"].get("macro_f1"),
        "val_split": extra.get("val_split"), "val_accuracy": extra.get("val_accuracy"),
        "best_epoch": extra.get("best_epoch"), "training_seconds": extra.get("training_seconds"),
        "command": results.get("command"), "git_commit": results.get("git_commit"),
        "trained_at": results.get("written_at"), "device": results.get("device"),
        "args_yaml": (run_dir / "args.yaml").read_text() if (run_dir / "args.yaml").is_file() else None,
    }
    manifest_path = out.parent / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    manifest[out.name] = entry
    atomic_write_text(manifest_path, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    print(f"wrote {out} ({len(payload) / 1e6:.2f} MB, sha256 {entry['sha256'][:12]}...) and {manifest_path}")
    return entry


if __name__ == "__main__":
    main()
