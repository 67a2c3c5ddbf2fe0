"""Let torchvision import against a CPU-only torch.

The torchvision wheel available here is a CUDA build.  Its compiled ops (``torchvision._C``) fail to
load against the CPU torch, and ``import torchvision`` then dies registering fake kernels for
``torchvision::nms`` / ``torchvision::qnms`` because those operator schemas were never defined.

:func:`ensure_torchvision_importable` defines just those two schemas, and only when the compiled
library cannot be loaded: where torchvision's ops load normally (a matching CPU or CUDA build) it
does nothing.  ``import shared_utils`` installs :func:`fix_before_torchvision_import`, an import hook that
calls it the moment something first imports ``torchvision`` (so import ``shared_utils`` before
``torchvision``).  The hook, not an eager call, keeps ``import shared_utils`` free of torch: a script's
``--help`` answers before torch is loaded.  Nothing else changes: calling ``torchvision.ops.nms`` still
fails here (no kernel), which this project never does.
"""

from __future__ import annotations

import glob
import importlib.abc
import importlib.util
import os
import sys

_MISSING_OP_SCHEMAS = {
    "nms": "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms": "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
}
_library = None  # keep the Library object alive: dropping it unregisters the schemas
PATCHED: bool | None = None  # None until torchvision is imported; then whether the schemas had to be defined


def _op_exists(name: str) -> bool:
    import torch

    try:
        getattr(torch.ops.torchvision, name)
        return True
    except (AttributeError, RuntimeError):
        return False


def _try_load_compiled_ops() -> bool:
    import torch

    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return False
    for folder in spec.submodule_search_locations:
        for lib in glob.glob(os.path.join(folder, "_C*.so")) + glob.glob(os.path.join(folder, "_C*.pyd")):
            try:
                torch.ops.load_library(lib)
                return True
            except (OSError, RuntimeError):
                return False
    return False


def ensure_torchvision_importable() -> bool:
    """Define the missing op schemas if needed. Returns True when it had to patch."""
    import torch

    global _library
    if all(_op_exists(name) for name in _MISSING_OP_SCHEMAS):
        return False
    if _try_load_compiled_ops() and all(_op_exists(name) for name in _MISSING_OP_SCHEMAS):
        return False
    _library = torch.library.Library("torchvision", "DEF")
    for name, schema in _MISSING_OP_SCHEMAS.items():
        if not _op_exists(name):
            _library.define(schema)
    return True


class _BeforeTorchvision(importlib.abc.MetaPathFinder):
    """Runs :func:`ensure_torchvision_importable` once, just before ``torchvision`` is first imported."""

    def find_spec(self, fullname, path=None, target=None):
        global PATCHED
        if fullname == "torchvision":
            sys.meta_path.remove(self)
            PATCHED = ensure_torchvision_importable()
        return None  # the regular finders import the module itself


def fix_before_torchvision_import() -> None:
    """Install the hook (idempotent); if torchvision is already imported it is too late for a hook: fix now."""
    global PATCHED
    if "torchvision" in sys.modules:
        if PATCHED is None:
            PATCHED = ensure_torchvision_importable()
        return
    if not any(isinstance(finder, _BeforeTorchvision) for finder in sys.meta_path):
        sys.meta_path.insert(0, _BeforeTorchvision())
