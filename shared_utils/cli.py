"""The command-line pieces every entry point shares: a parser whose errors are one line, and value types.

A mistake on the command line (``--batch-size 0``, ``--lr nan``) is answered by one line on stderr naming the
option, before anything is read or written::

    train.py: error: argument -b/--batch-size: 0 is not a positive integer (see --help)

The types also check values that come from a ``--config`` file (``runs.parse_args_with_config`` passes them
through the option's type).
"""

from __future__ import annotations

import argparse
import math
import sys


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, but an error is one line (argparse prints the whole usage block first)."""

    def error(self, message: str):
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        sys.exit(2)


def _number(text: str, kind: type):
    try:
        value = kind(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a{'n integer' if kind is int else ' number'}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def checked_type(name: str, kind: type, accept, problem: str):
    """An argparse type: ``text`` read as ``kind``, refused with "<value> <problem>" unless ``accept(value)``."""
    def parse(text: str):
        value = _number(text, kind)
        if not accept(value):
            raise argparse.ArgumentTypeError(f"{value:g} {problem}" if kind is float else f"{value} {problem}")
        return value

    parse.__name__ = name
    parse.number_kind = kind  # how runs.parse_args_with_config reads a config file's number before the check
    return parse


positive_int = checked_type("positive_int", int, lambda v: v >= 1, "is not a positive integer")
nonnegative_int = checked_type("nonnegative_int", int, lambda v: v >= 0, "is negative")
positive_float = checked_type("positive_float", float, lambda v: v > 0, "is not a positive number")
nonnegative_float = checked_type("nonnegative_float", float, lambda v: v >= 0, "is negative")
probability = checked_type("probability", float, lambda v: 0 <= v <= 1, "is not between 0 and 1")
# a share of the data held out: 1 would leave nothing to train on
holdout_share = checked_type("holdout_share", float, lambda v: 0 <= v < 1, "is not at least 0 and below 1")


# --method of every CAM script; shared_utils.gradcam maps them to pytorch-grad-cam's classes (named here so a
# parser needs no torch)
CAM_METHOD_NAMES = ("gradcam", "gradcam++", "eigencam")


def add_runtime_args(parser, amp_dtype: str = "auto", channels_last: bool = True) -> None:
    """The runtime flags every training script shares. ``amp_dtype`` / ``channels_last``: the package's defaults
    (``"float16"``: no autocast on CPU; a package passes ``"float16", False`` where bf16 moved its demo results)."""
    group = parser.add_argument_group("runtime")
    flag = argparse.BooleanOptionalAction
    group.add_argument("--device", default="auto", help="auto (CUDA if present, else CPU), cpu, cuda, cuda:N")
    group.add_argument("--amp", action=flag, default=True, help="mixed precision (--no-amp: fp32 throughout)")
    group.add_argument("--amp-dtype", default=amp_dtype, choices=["auto", "float16", "bfloat16"],
                       help="auto: float16 on CUDA; on a CPU with native bfloat16 (AVX-512 BF16, AMX) bfloat16 for "
                            "the training steps, predictions in fp32; bfloat16: predictions too")
    group.add_argument("--channels-last", action=flag, default=channels_last,
                       help="channels_last memory format (the faster one for these convnets on CPU and GPU)")
    group.add_argument("--seed", type=nonnegative_int, default=0)
    group.add_argument("--deterministic", action=flag, default=False, help="bit-repeatable kernels")
    group.add_argument("--workers", type=nonnegative_int, default=0, help="DataLoader worker processes")
    group.add_argument("--keep-freed-memory", action=flag, default=True,
                       help="glibc's malloc keeps what a training step frees for the next one instead of unmapping "
                            "and re-zeroing it (about 2x on the fp32 ResNet-50 TSM step here); peak memory +2-9 %%")
    group.add_argument("--threads", type=nonnegative_int, default=0,
                       help="torch CPU threads (0: torch's default; 1 is much faster when the cores are busy)")


def answer_help_first(get_parser, module_name: str) -> None:
    """Answer ``--help`` before a script's heavy imports: call it between the light imports and torch.

    Importing torch, torchvision and scikit-learn takes 2-5 s here; the parser itself needs none of them. When
    ``module_name`` is ``"__main__"`` and the command line asks for help, build the parser and let it print and
    exit; otherwise do nothing (the script parses its arguments again in ``main``, as usual).
    """
    if module_name == "__main__" and {"-h", "--help"} & set(sys.argv[1:]):
        get_parser().parse_args()
