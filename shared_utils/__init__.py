"""Thin utilities shared by the four reproduction packages. Knows no dataset.

Importing this package first makes ``import torchvision`` work against a CPU-only torch
(see :mod:`shared_utils.torchvision_compat`); each reproduction package imports it in its
``__init__`` so that any ``from <package> import ...`` is covered.
"""

from shared_utils.torchvision_compat import ensure_torchvision_importable

TORCHVISION_PATCHED = ensure_torchvision_importable()

__all__ = ["TORCHVISION_PATCHED"]
