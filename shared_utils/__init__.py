"""Thin utilities shared by the four reproduction packages. Knows no dataset.

Importing this package installs an import hook that makes ``import torchvision`` work against a
CPU-only torch (see :mod:`shared_utils.torchvision_compat`); each reproduction package imports it in
its ``__init__`` so that any ``from <package> import ...`` is covered. The hook imports torch only
when torchvision is imported, so ``import shared_utils`` itself stays light.
"""

from shared_utils.torchvision_compat import fix_before_torchvision_import

fix_before_torchvision_import()
