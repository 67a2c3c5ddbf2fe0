"""Let torchvision import against a CPU-only torch.

The torchvision wheel available here is a CUDA build.  Its compiled ops (``torchvision._C``) fail to
load against the CPU torch, and ``import torchvision`` then dies registering fake kernels for
``torchvision::nms`` / ``torchvision::qnms`` because those operator schemas were never defined.

:func:`ensure_torchvision_importable` defines just those two schemas, and only when the compiled
library cannot be loaded: where torchvision's ops load normally (a matching CPU or CUDA build) it
does nothing.  ``import shared_utils`` calls it, so import ``shared_utils`` before ``torchvision``.
Nothing else changes: calling ``torchvision.ops.nms`` still fails here (no kernel), which this
project never does.
"""

from __future__ import annotations

import glob
import importlib.util
import os

import torch

_MISSING_OP_SCHEMAS = {
    "nms": "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms": "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
}
_library = None  # keep the Library object alive: dropping it unregisters the schemas


def _op_exists(name: str) -> bool:
    try:
        getattr(torch.ops.torchvision, name)
        return True
    except (AttributeError, RuntimeError):
        return False


def _try_load_compiled_ops() -> bool:
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
