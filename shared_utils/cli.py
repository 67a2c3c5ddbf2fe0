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


def _checked_type(name: str, kind: type, accept, problem: str):
    """An argparse type: ``text`` read as ``kind``, refused with "<value> <problem>" unless ``accept(value)``."""
    def parse(text: str):
        value = _number(text, kind)
        if not accept(value):
            raise argparse.ArgumentTypeError(f"{value:g} {problem}" if kind is float else f"{value} {problem}")
        return value

    parse.__name__ = name
    parse.number_kind = kind  # how runs.parse_args_with_config reads a config file's number before the check
    return parse


positive_int = _checked_type("positive_int", int, lambda v: v >= 1, "is not a positive integer")
nonnegative_int = _checked_type("nonnegative_int", int, lambda v: v >= 0, "is negative")
positive_float = _checked_type("positive_float", float, lambda v: v > 0, "is not a positive number")
nonnegative_float = _checked_type("nonnegative_float", float, lambda v: v >= 0, "is negative")
probability = _checked_type("probability", float, lambda v: 0 <= v <= 1, "is not between 0 and 1")
# a share of the data held out: 1 would leave nothing to train on
holdout_share = _checked_type("holdout_share", float, lambda v: 0 <= v < 1, "is not at least 0 and below 1")
