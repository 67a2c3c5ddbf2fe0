"""Run folders: ``runs/<package>/<experiment>/`` with args.yaml, summary.csv, checkpoints, plots.

Config handling follows timm's ``train.py``: ``--config FILE`` (YAML or JSON) replaces the parser's
defaults, flags given on the command line still win, and the resolved arguments are written to
``args.yaml`` in the run folder.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from shared_utils.files import atomic_write_text, make_folder

LAST_CHECKPOINT = "checkpoint_last.pt"
BEST_CHECKPOINT = "checkpoint_best.pt"


# --------------------------------------------------------------------------- config files
def load_config_file(path: str | Path, _chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A YAML/JSON mapping of option names to values. ``_base_: other.yaml`` (a path relative to this file, as in
    mmaction2's configs) loads that file first and lets this one state only what differs."""
    path = Path(path)
    if path.resolve() in _chain:
        raise SystemExit(f"error: config file {path}: _base_ files include each other")
    if not path.is_file():
        raise SystemExit(f"error: config file {path} does not exist")
    text = path.read_text()
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise SystemExit(f"error: config file {path} is not valid {path.suffix.lstrip('.') or 'YAML'}: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SystemExit(f"error: config file {path} must hold a mapping of option names to values")
    base = data.pop("_base_", None)
    if base is None:
        return data
    return {**load_config_file(path.parent / str(base), (*_chain, path.resolve())), **data}


def parse_args_with_config(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> argparse.Namespace:
    """Parse ``argv`` with ``--config`` values as defaults (command-line flags override them).

    Config keys are the options' ``dest`` names (``learning_rate`` or ``learning-rate`` both work);
    an unknown key is an error naming the file, so a typo never silently falls back to a default.
    """
    if not any(action.dest == "config" for action in parser._actions):
        parser.add_argument("--config", default=None, help="YAML/JSON file whose values replace the defaults")
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config", default=None)
    known, _ = pre.parse_known_args(argv)
    if known.config:
        values = {str(k).replace("-", "_"): v for k, v in load_config_file(known.config).items()}
        dests = {action.dest for action in parser._actions}
        unknown = sorted(set(values) - dests)
        if unknown:
            raise SystemExit(f"error: config file {known.config} has unknown option(s): {', '.join(unknown)}")
        actions = {action.dest: action for action in parser._actions}
        parser.set_defaults(**{key: _typed_config_value(actions[key], key, value, known.config)
                               for key, value in values.items()})
    return parser.parse_args(argv)


_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


def _typed_config_value(action: argparse.Action, key: str, value, config_file: str):
    """A config value through the same type, boolean and choices rules as the command line (YAML's "no" and
    JSON's "false" as strings would otherwise both be true); a value that does not fit is one line naming key and
    file."""
    def fail(why: str) -> SystemExit:
        return SystemExit(f"error: config file {config_file}: {key}: {why}")

    if value is None:
        return None
    if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse.BooleanOptionalAction)):
        if isinstance(value, bool):
            return value
        if isinstance(value, (str, int)) and str(value).strip().lower() in _TRUE | _FALSE:
            return str(value).strip().lower() in _TRUE
        raise fail(f"{value!r} is not true or false")
    many = action.nargs in ("+", "*") or isinstance(action.nargs, int) and action.nargs > 1
    items = (list(value) if isinstance(value, (list, tuple)) else [value]) if many else [value]
    if not many and isinstance(value, (list, tuple, dict)):
        raise fail(f"expected one value, got {value!r}")
    converted = []
    for item in items:
        kind = action.type
        base = getattr(kind, "number_kind", kind)  # shared_utils.cli's checked types name int or float
        try:
            if base is int and not isinstance(item, bool) and (isinstance(item, int) or
                                                               isinstance(item, float) and item.is_integer()):
                item = kind(str(int(item)))
            elif base is float and not isinstance(item, bool) and isinstance(item, (int, float)):
                item = kind(repr(float(item)))
            elif kind is not None and isinstance(item, str):
                item = kind(item)
            elif base in (int, float):
                raise ValueError(f"{item!r} is not {'an integer' if base is int else 'a number'}")
            elif kind is str:
                item = str(item)
        except (TypeError, ValueError, argparse.ArgumentTypeError) as exc:
            raise fail(f"{item!r} does not fit ({exc})") from None
        if action.choices is not None and item not in action.choices:
            raise fail(f"{item!r} is not one of {', '.join(map(str, action.choices))}")
        converted.append(item)
    return converted if many else converted[0]


def add_run_args(parser: argparse.ArgumentParser, default_output: str) -> None:
    """--output / --experiment / --resume / --overwrite, shared by every training script."""
    group = parser.add_argument_group("run folder")
    group.add_argument("--output", default=default_output, help="runs root; the run goes to OUTPUT/EXPERIMENT")
    group.add_argument("--experiment", default=None, help="run folder name (default: derived from the options)")
    group.add_argument("--resume", action="store_true", help="continue the run in an existing folder exactly")
    group.add_argument("--overwrite", action="store_true", help="delete an existing run folder and start over")


# --------------------------------------------------------------------------- run folder
FAILED_START_FILES = frozenset({"args.yaml", "log.txt"})


def prepare_run_dir(
    output: str | Path, experiment: str, resume: bool = False, overwrite: bool = False, is_main: bool = True
) -> Path:
    """Create (or reopen, with ``resume``) ``output/experiment``.

    An existing folder is never silently reused: without ``--resume`` or ``--overwrite`` it is an
    error; ``--resume`` needs the folder's last checkpoint.
    """
    if resume and overwrite:
        raise SystemExit("error: --resume and --overwrite contradict each other; give one")
    run_dir = Path(output) / experiment
    if resume:
        if not (run_dir / LAST_CHECKPOINT).is_file():
            raise SystemExit(f"error: --resume given but {run_dir / LAST_CHECKPOINT} does not exist")
        return run_dir
    if run_dir.exists() and any(run_dir.iterdir()):
        args_file = run_dir / "args.yaml"
        if ({entry.name for entry in run_dir.iterdir()} <= FAILED_START_FILES and args_file.is_file()
                and args_file.read_text(errors="replace").startswith("# command: ")):  # save_args wrote it
            # A start that stopped before training (bad option or data) left only its own args.yaml and log.txt:
            # the corrected command takes the folder over instead of being refused.
            if is_main:
                for name in FAILED_START_FILES:
                    (run_dir / name).unlink(missing_ok=True)
            return run_dir
        if not overwrite:
            raise SystemExit(
                f"error: run folder {run_dir} already exists; pass --resume to continue it, "
                "--overwrite to start it again, or choose another --experiment"
            )
        if is_main:
            shutil.rmtree(run_dir)
    if is_main:
        make_folder(run_dir)
    return run_dir


def new_evaluation_dir(run_dir: str | Path, is_main: bool = True) -> Path:
    """A new folder ``RUN/eval/<date-time>`` for an evaluation of an existing run: scoring a run never rewrites
    or deletes what its training wrote (results.json, checkpoints, thresholds, log.txt)."""
    base = Path(run_dir) / "eval" / time.strftime("%Y%m%d-%H%M%S")
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    if is_main:
        make_folder(folder)
    return folder


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


# Options a resumed run may change: where, how fast and how long it runs (more epochs, a wall-clock stop), not what
# it trains.
RESUME_MAY_CHANGE = frozenset({"resume", "resume_from", "overwrite", "config", "device", "workers", "num_workers",
                               "threads", "print_freq", "log_interval", "no_progress", "epochs",
                               "stop_after_epoch"})


def save_args(run_dir: str | Path, args: argparse.Namespace | dict[str, Any], name: str = "args.yaml") -> Path:
    """Write the resolved arguments (and the command line that produced them) as YAML.

    On ``--resume`` the saved file is compared first: an option that changes what is trained (model, data, recipe)
    is refused in one line naming each difference, and nothing is written.
    """
    values = dict(vars(args)) if isinstance(args, argparse.Namespace) else dict(args)
    values = _plain(values)
    path = Path(run_dir) / name
    if values.get("resume") and path.is_file():
        saved = yaml.safe_load(path.read_text()) or {}
        changed = [f"{key}: {saved[key]!r} -> {value!r}" for key, value in sorted(values.items())
                   if key in saved and key not in RESUME_MAY_CHANGE and saved[key] != value]
        if changed:
            raise SystemExit(f"error: --resume with options that differ from {path}: {'; '.join(changed)} "
                             "(resume with the saved options, or start a new run)")
    text = yaml.safe_dump(values, sort_keys=True)
    text = f"# command: {command_line()}\n" + text
    atomic_write_text(path, text)
    return path


def command_line() -> str:
    """The command as a user would type it, ``python -m pkg.module`` form when run that way."""
    argv0 = sys.argv[0] if sys.argv else ""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    prog = f"python -m {spec.name}" if spec is not None and spec.name else f"python {argv0}"
    return " ".join([prog, *(shlex.quote(a) for a in sys.argv[1:])])


# --------------------------------------------------------------------------- per-epoch CSV
class SummaryCSV:
    """Per-epoch metrics, one row per epoch, first column ``epoch``.

    Rows are rewritten atomically; on resume rows after the resumed epoch are dropped so the file
    matches the checkpoint.  New columns appearing later are added to the header.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.rows: list[dict[str, Any]] = []
        if self.path.is_file():
            with self.path.open(newline="") as handle:
                self.rows = [dict(row) for row in csv.DictReader(handle)]

    def truncate(self, last_epoch: int) -> None:
        self.rows = [row for row in self.rows if int(float(row["epoch"])) <= last_epoch]
        self._write()

    def append(self, row: dict[str, Any]) -> None:
        if "epoch" not in row:
            raise ValueError("summary rows need an 'epoch' field")
        self.rows.append({k: _csv_value(v) for k, v in row.items()})
        self._write()

    def _write(self) -> None:
        fields: list[str] = []
        for row in self.rows:
            fields += [k for k in row if k not in fields]
        if "epoch" in fields:
            fields.remove("epoch")
            fields.insert(0, "epoch")
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=fields)
        writer.writeheader()
        writer.writerows(self.rows)
        atomic_write_text(self.path, buffer.getvalue())


def _csv_value(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return f"{value:.6g}" if math.isfinite(value) else str(value)
    return value


# --------------------------------------------------------------------------- best model / early stop
class BestTracker:
    """Keeps the best value of a validation metric and counts epochs without improvement."""

    def __init__(self, metric: str, mode: str = "max", patience: int | None = None, min_delta: float = 0.0):
        if mode not in ("max", "min"):
            raise ValueError("mode must be 'max' or 'min'")
        self.metric, self.mode, self.patience, self.min_delta = metric, mode, patience, min_delta
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.bad_epochs = 0

    def update(self, value: float, epoch: int) -> bool:
        """Record ``value``; True when it is a new best (save the best checkpoint then)."""
        value = float(value)
        if self.best is None:
            improved = True
        elif self.mode == "max":
            improved = value > self.best + self.min_delta
        else:
            improved = value < self.best - self.min_delta
        if improved:
            self.best, self.best_epoch, self.bad_epochs = value, epoch, 0
        else:
            self.bad_epochs += 1
        return improved

    @property
    def should_stop(self) -> bool:
        return self.patience is not None and self.patience > 0 and self.bad_epochs >= self.patience

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch, self.bad_epochs = state["best"], state["best_epoch"], state["bad_epochs"]


def run_script(module: str, argv: list[str]) -> None:
    """Run ``python -m module argv`` in a fresh process, its output shown as it comes; a failure stops the caller in
    one line. Reproduction drivers run the training scripts this way, as a user would type them, so a script never
    imports another script."""
    print(f"== python -m {module} {shlex.join(argv)}", flush=True)
    done = subprocess.run([sys.executable, "-m", module, *argv])
    if done.returncode != 0:
        raise SystemExit(f"error: python -m {module} failed (exit {done.returncode}); its message is above")
