"""``results.json``: what every evaluation writes, and what ``shared_utils.report`` reads."""

from __future__ import annotations

import json
import math
import subprocess
import time
from pathlib import Path
from typing import Any

from shared_utils.files import atomic_write_text
from shared_utils.runs import command_line

REQUIRED_FIELDS = (
    "package",
    "experiment",
    "dataset",
    "data",
    "split",
    "metrics",
    "baseline",
    "command",
    "git_commit",
    "device",
    "wall_seconds",
)
DATA_KINDS = ("demo", "real")


def git_commit(cwd: str | Path | None = None) -> str:
    """The checked-out commit (with ``-dirty`` when files differ), or ``unknown`` outside git."""
    cwd = cwd or Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd, capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


# Taken when the process starts, so a long run records the code it ran, not a commit made meanwhile.
COMMIT_AT_START = git_commit()


def _clean_number(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN; undefined metrics are null
    return value


def _clean(mapping: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in mapping.items():
        out[str(key)] = _clean(value) if isinstance(value, dict) else _clean_number(value)
    return out


def write_results(
    path: str | Path,
    *,
    package: str,
    experiment: str,
    dataset: str,
    data: str,
    split: str,
    metrics: dict[str, Any],
    baseline: dict[str, Any],
    device: str,
    wall_seconds: float,
    command: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``results.json`` (``path`` may be the run folder or the file itself).

    ``metrics`` and ``baseline`` map metric names to numbers (nested dicts allowed for per-class
    values); ``baseline`` holds the same metrics for a trivial predictor on the same split.
    """
    if data not in DATA_KINDS:
        raise ValueError(f"data must be one of {DATA_KINDS}, got {data!r}")
    path = Path(path)
    if path.suffix != ".json":
        path = path / "results.json"
    record = {
        "package": package,
        "experiment": experiment,
        "dataset": dataset,
        "data": data,
        "split": split,
        "metrics": _clean(metrics),
        "baseline": _clean(baseline),
        "command": command or command_line(),
        "git_commit": COMMIT_AT_START,
        "device": device,
        "wall_seconds": round(float(wall_seconds), 3),
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if extra:
        record["extra"] = _clean(extra)
    text = json.dumps(record, indent=2, sort_keys=False) + "\n"
    atomic_write_text(path, text)
    return path


def load_results(path: str | Path) -> dict[str, Any]:
    """Read and validate one results.json; any problem is one clear error naming the file."""
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        raise SystemExit(f"error: {path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise SystemExit(f"error: {path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(record, dict):
        raise SystemExit(f"error: {path}: expected a JSON object at the top level")
    missing = [name for name in REQUIRED_FIELDS if name not in record]
    if missing:
        raise SystemExit(f"error: {path}: missing field(s): {', '.join(missing)}")
    if record["data"] not in DATA_KINDS:
        raise SystemExit(f"error: {path}: field 'data' must be one of {DATA_KINDS}, got {record['data']!r}")
    for name in ("metrics", "baseline"):
        if not isinstance(record[name], dict):
            raise SystemExit(f"error: {path}: field '{name}' must be an object of metric name -> value")
    return record


class Stopwatch:
    def __init__(self):
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start
