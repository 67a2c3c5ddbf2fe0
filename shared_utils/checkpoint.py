"""Checkpoints that resume exactly and never leave a half-written file under the final name.

A training checkpoint holds model, optimizer, scheduler, GradScaler, epoch, RNG states and any
extra plain data (best metric so far, early-stopping counter).  Everything is stored as tensors or
plain Python values so it loads with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import importlib
import pickle
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from shared_utils.files import atomic_write


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    atomic_write(path, lambda handle: torch.save(state, handle))


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise SystemExit(f"error: checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # corrupt file, foreign pickle: say which file, not a pickle traceback
        raise SystemExit(f"error: cannot read checkpoint {path}: {type(exc).__name__}: {exc}") from None
    if not isinstance(state, dict):
        raise SystemExit(f"error: {path}: holds a {type(state).__name__}, not a checkpoint (a dict of weights and "
                         "training state)")
    return state


# --------------------------------------------------------------------------- RNG states
def capture_rng_state() -> dict[str, Any]:
    np_state = np.random.get_state(legacy=False)
    state = {
        "python": random.getstate(),
        "numpy": {
            "bit_generator": np_state["bit_generator"],
            "key": torch.from_numpy(np_state["state"]["key"].astype(np.int64)),
            "pos": int(np_state["state"]["pos"]),
            "has_gauss": int(np_state["has_gauss"]),
            "gauss": float(np_state["gauss"]),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    np_state = state["numpy"]
    np.random.set_state(
        {
            "bit_generator": np_state["bit_generator"],
            "state": {"key": np_state["key"].numpy().astype(np.uint32), "pos": np_state["pos"]},
            "has_gauss": np_state["has_gauss"],
            "gauss": np_state["gauss"],
        }
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# --------------------------------------------------------------------------- training state
def training_state(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any = None,
    scaler: torch.amp.GradScaler | None = None,
    epoch: int = 0,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything needed to continue after ``epoch`` (the number of finished epochs)."""
    if isinstance(model, torch.nn.parallel.DistributedDataParallel):
        model = model.module
    return {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "scaler": scaler.state_dict() if scaler is not None and scaler.is_enabled() else None,
        "epoch": int(epoch),
        "rng": capture_rng_state(),
        "extra": extra or {},
    }


def restore_training_state(
    state: dict[str, Any],
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any = None,
    scaler: torch.amp.GradScaler | None = None,
    restore_rng: bool = True,
) -> tuple[int, dict[str, Any]]:
    """Load what :func:`training_state` saved. Returns ``(finished_epochs, extra)``."""
    if isinstance(model, torch.nn.parallel.DistributedDataParallel):
        model = model.module
    model.load_state_dict(state["model"])
    if optimizer is not None and state.get("optimizer") is not None:
        optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and state.get("scheduler") is not None:
        scheduler.load_state_dict(state["scheduler"])
    if scaler is not None and state.get("scaler") is not None:
        scaler.load_state_dict(state["scaler"])
    if restore_rng and "rng" in state:
        restore_rng_state(state["rng"])
    return int(state.get("epoch", 0)), dict(state.get("extra", {}))


def load_model_weights(model: torch.nn.Module, path: str | Path, strict: bool = True) -> dict[str, Any]:
    """Load only the model part of a checkpoint (or a bare state_dict) for evaluation."""
    state = load_checkpoint(path)
    weights = state["model"] if isinstance(state, dict) and "model" in state else state
    try:
        model.load_state_dict(weights, strict=strict)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise SystemExit(f"error: checkpoint {path} does not fit this model: {first}") from None
    return state


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    wanted = [line for line in lines if "Unsupported global" in line or "Can only build" in line]
    return (wanted or lines or [""])[0].strip()


# numpy scalars and dtypes, as torch's documentation allows them for weights_only loading
_NUMPY_GLOBALS = ("numpy._core.multiarray.scalar", "numpy.core.multiarray.scalar", "numpy.dtype")
_UNSUPPORTED = re.compile(r"Unsupported global: GLOBAL ([\w.]+)")


class PickledObject:
    """Inert stand-in for an object of a class a checkpoint names but that is not loaded (a trainer's config,
    a whole pickled ``nn.Module``): it only keeps the pickled state (``state``, ``args``); no code of the
    original class runs."""

    pickled_class = ""

    def __new__(cls, *args, **kwargs):
        inst = object.__new__(cls)
        inst.args, inst.state = args, None
        return inst

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        self.state = state

    def __repr__(self):
        return f"<pickled {self.pickled_class}>"


def _stand_in(name: str) -> type:
    module, _, attr = name.rpartition(".")
    return type(attr, (PickledObject,), {"__module__": module, "pickled_class": name})


class _TensorsOnlyUnpickler(pickle.Unpickler):
    """For torch's legacy .tar format, which ``weights_only=True`` refuses: tensors, storages and ordered
    dicts only (torch's loader supplies the storages), any other global refused."""

    ALLOWED = {("collections", "OrderedDict"), ("torch._utils", "_rebuild_tensor"),
               ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_parameter"),
               ("torch", "Size"), ("torch", "device")}

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED or (module == "torch" and name.endswith(("Storage", "Tensor"))):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"Unsupported global: GLOBAL {module}.{name} (legacy .tar checkpoint)")


class _TensorsOnlyPickleModule:
    Unpickler = _TensorsOnlyUnpickler

    @staticmethod
    def load(file, **kwargs):
        return _TensorsOnlyUnpickler(file, **kwargs).load()


def load_weights_only(path: str | Path, allow_class=None) -> Any:
    """``torch.load(weights_only=True)``, also for files the plain call refuses, without running their code:

    - a checkpoint that pickles objects of classes torch does not allow (a trainer's ``config`` object,
      a whole ``nn.Module`` saved with ``torch.save(model)``): each such class becomes a
      :class:`PickledObject` that keeps only the pickled state; ``allow_class(name) -> bool``, when given,
      refuses classes it does not accept;
    - numpy scalars (torch's documented allowance), Python 2 pickles (latin-1), and torch's legacy .tar
      format (tensors only).
    """
    stand_ins: dict[str, type] = {}
    allowed: list = [getattr(np.dtypes, n) for n in dir(np.dtypes) if n.endswith("DType")]
    allowed += [(obj, name) for name in _NUMPY_GLOBALS if (obj := _resolve(name)) is not None]
    encoding = {}
    for _ in range(200):  # each round admits one more class the file names
        try:
            with torch.serialization.safe_globals(allowed + [(cls, n) for n, cls in stand_ins.items()]):
                return torch.load(path, map_location="cpu", weights_only=True, **encoding)
        except UnicodeDecodeError:
            if encoding:
                raise
            encoding = {"encoding": "latin1"}
        except RuntimeError as exc:
            if "legacy .tar format" not in str(exc):
                raise
            return torch.load(path, map_location="cpu", weights_only=False, pickle_module=_TensorsOnlyPickleModule,
                              **encoding)
        except pickle.UnpicklingError as exc:
            match = _UNSUPPORTED.search(str(exc))
            if not match or match.group(1) in stand_ins:
                raise
            name = match.group(1)
            if allow_class is not None and not allow_class(name):
                raise pickle.UnpicklingError(f"the file names class {name}, which is not accepted here") from None
            stand_ins[name] = _stand_in(name)
    raise pickle.UnpicklingError("too many classes named in the file")


def _resolve(name: str) -> Any:
    """The object a dotted name refers to, or None (numpy 1 and 2 name their scalar helpers differently)."""
    module, _, attr = name.rpartition(".")
    try:
        return getattr(importlib.import_module(module), attr, None)
    except ImportError:
        return None


def module_state_dict(obj: Any, prefix: str = "") -> dict[str, torch.Tensor]:
    """The state_dict of a whole ``nn.Module`` loaded as :class:`PickledObject` stand-ins: parameters and
    buffers gathered from the pickled ``_parameters`` / ``_buffers`` / ``_modules`` as ``nn.Module`` does."""
    state = obj.state if isinstance(obj, PickledObject) else None
    if not isinstance(state, dict) or "_modules" not in state:
        raise ValueError(f"not a pickled nn.Module: {obj!r}")
    out: dict[str, torch.Tensor] = {}
    for group in ("_parameters", "_buffers"):
        for name, value in (state.get(group) or {}).items():
            if value is not None and name not in state.get("_non_persistent_buffers_set", set()):
                out[prefix + name] = value.detach() if isinstance(value, torch.Tensor) else value
    for name, child in (state.get("_modules") or {}).items():
        if child is not None:
            out.update(module_state_dict(child, f"{prefix}{name}."))
    return out


def read_state_dict(path: str | Path, what: str = "pretrained weights") -> dict[str, torch.Tensor]:
    """A local weights file (never downloaded) as a flat state_dict, with one-line errors.

    Accepts a bare state_dict or one under ``state_dict``/``model`` (e.g. the Places365 release) and
    strips DataParallel ``module.`` prefixes."""
    path = Path(path)
    if not path.is_file():
        raise SystemExit(
            f"error: {what} {path}: file not found (nothing is downloaded: save the torchvision state_dict "
            "with torch.save(model.state_dict(), PATH) on a machine with network and pass its path)"
        )
    try:
        state = load_weights_only(path)
    except Exception as exc:  # a pickled whole model, a corrupt file: name it, no pickle traceback
        raise SystemExit(f"error: {what} {path}: cannot read it as a state_dict "
                         f"({type(exc).__name__}: {_first_line(exc)})") from None
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise SystemExit(f"error: {what} {path}: expected a state_dict of tensors, found {type(state).__name__}")
    return {k.removeprefix("module."): v for k, v in state.items()}


def load_state_dict_checked(
    module: torch.nn.Module, state: dict[str, torch.Tensor], what: str, path: str | Path,
    keep_init: tuple[str, ...] = (),
    unexpected_ok: bool = True,
) -> None:
    """Load ``state`` (keys already in ``module``'s layout) into ``module``, refusing a file that does not fit.

    Every parameter and buffer of ``module`` must be in ``state`` with the same shape, except those under
    ``keep_init`` prefixes, which load only when present with the same shape and otherwise keep their
    initialisation (a head the module replaces; BatchNorm's ``num_batches_tracked``, which old files lack).
    Keys of the file that the module lacks are ignored, or with ``unexpected_ok=False`` refused."""
    own = module.state_dict()
    # BatchNorm's num_batches_tracked appeared in PyTorch 0.4: files saved before (the 2017 Places365 release)
    # lack it; it only matters for momentum=None, and loads when present.
    required = [k for k in own if not k.startswith(keep_init) and not k.endswith(".num_batches_tracked")]
    missing = sorted(k for k in required if k not in state)
    wrong = sorted(k for k in required if k in state and tuple(state[k].shape) != tuple(own[k].shape))
    unexpected = [] if unexpected_ok else sorted(k for k in state if k not in own)
    if missing or wrong or unexpected:
        if missing:
            problem = f"{len(missing)} missing keys (first: {missing[0]})"
        elif wrong:
            problem = f"shape mismatch at {wrong[0]}: file {tuple(state[wrong[0]].shape)}, " \
                f"model {tuple(own[wrong[0]].shape)}"
        else:
            problem = f"{len(unexpected)} unexpected keys (first: {unexpected[0]})"
        raise SystemExit(f"error: {what} {path}: does not fit this {type(module).__name__} ({problem})")
    optional = [k for k in own if k not in required and k in state and state[k].shape == own[k].shape]
    module.load_state_dict({k: state[k] for k in required + optional}, strict=False)


def load_pretrained_weights(
    module: torch.nn.Module, path: str | Path, what: str = "pretrained weights", skip_prefixes: tuple[str, ...] = ()
) -> None:
    """Load a local weights file (never downloaded) into ``module``, with one-line errors.

    Keys under ``skip_prefixes`` (a classifier head the module replaces) are ignored on both sides.
    Every other parameter and buffer of ``module`` must be in the file with the same shape, so a file
    for another architecture is refused instead of half-loaded.
    """
    state = read_state_dict(path, what)
    state = {k: v for k, v in state.items() if not k.startswith(skip_prefixes)} if skip_prefixes else state
    own = {k for k in module.state_dict() if not k.startswith(skip_prefixes)} if skip_prefixes else None
    if own is not None:  # skipped module keys must not be loaded from the file even when they fit
        state = {k: v for k, v in state.items() if k in own}
    load_state_dict_checked(module, state, what, path, keep_init=skip_prefixes)
