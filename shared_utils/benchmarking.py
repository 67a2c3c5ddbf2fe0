"""Fair timing on a shared machine: each setting in its own process, settings alternated round by round.

A benchmark script prints one JSON object per run; :func:`alternate` starts every setting once per round, in the
same order, and keeps every round's result, so slow drift in the machine's load falls on all settings alike and the
median per setting can be compared. Preloaded allocators are process-wide, so they are chosen here, at process start
(``LD_PRELOAD`` for jemalloc / tcmalloc from the distribution's packages).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from shared_utils.cli import positive_int

# Debian / Ubuntu paths of the allocators' shared libraries (apt: libjemalloc2, libtcmalloc-minimal4)
ALLOCATOR_LIBRARIES = {
    "jemalloc": ("libjemalloc.so.2",),
    "tcmalloc": ("libtcmalloc_minimal.so.4",),
}
LIBRARY_FOLDERS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib")
# glibc: its defaults; glibc_keep: the runtime's --keep-freed-memory (shared_utils.runtime.keep_freed_memory, mallopt
# in-process); the others preloaded, so a setting without glibc_keep runs with --no-keep-freed-memory
ALLOCATORS = ("glibc", "glibc_keep", *ALLOCATOR_LIBRARIES)


def allocator_library(name: str) -> Path:
    """The shared library of a preloaded allocator (``ALLOCATOR_LIBRARIES``) on this machine."""
    for folder in LIBRARY_FOLDERS:
        for filename in ALLOCATOR_LIBRARIES[name]:
            if (Path(folder) / filename).is_file():
                return Path(folder) / filename
    raise SystemExit(f"error: allocator {name}: none of {', '.join(ALLOCATOR_LIBRARIES[name])} under "
                     f"{', '.join(LIBRARY_FOLDERS)} (Debian/Ubuntu: apt install libjemalloc2 libtcmalloc-minimal4)")


def peak_rss_mib() -> float:
    """This process's peak resident memory since start or the last :func:`reset_peak_rss` (Linux VmHWM), MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak_rss() -> None:
    """Start a new peak (Linux: writing 5 to /proc/self/clear_refs resets VmHWM to the current RSS)."""
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


@dataclass
class Setting:
    """One way of running the measured command: its argv, extra environment and working folder."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None


def run_once(setting: Setting, timeout: float = 3600) -> dict:
    env = {**os.environ, "REPRO_NO_PROGRESS": "1", **setting.env}
    result = subprocess.run(setting.argv, env=env, cwd=setting.cwd, capture_output=True, text=True, timeout=timeout)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        raise SystemExit(f"error: benchmark run failed ({' '.join(setting.argv)}):\n{result.stderr[-3000:]}")
    return json.loads(lines[-1])


def alternate(settings: dict[str, Setting], rounds: int, report=print) -> dict[str, list[dict]]:
    """Run every setting once per round, in order, ``rounds`` times; returns each setting's results."""
    results: dict[str, list[dict]] = {name: [] for name in settings}
    for round_index in range(rounds):
        for name, setting in settings.items():
            results[name].append(run_once(setting))
            report(f"round {round_index + 1}/{rounds} {name}: " + ", ".join(
                f"{key} {value:.3f}" if isinstance(value, float) else f"{key} {value}"
                for key, value in results[name][-1].items()), file=sys.stderr)
    return results


def median_of(results: list[dict], key: str) -> float:
    return statistics.median(row[key] for row in results)


# Setting tokens, '+'-joined (e.g. "bf16+channels_last+jemalloc"): precision and memory format map to the runtime's
# options (shared_utils.cli.add_runtime_args), allocators to the process's environment.
PRECISIONS = {"fp32": {"amp": False}, "bf16": {"amp": True, "amp_dtype": "bfloat16"}}
MEMORY_FORMATS = {"contiguous": {"channels_last": False}, "channels_last": {"channels_last": True}}
SETTING_TOKENS = (*PRECISIONS, *MEMORY_FORMATS, *ALLOCATORS)


def setting_tokens(name: str) -> list[str]:
    tokens = name.split("+")
    unknown = [token for token in tokens if token not in SETTING_TOKENS]
    if unknown:
        raise SystemExit(f"error: setting {name!r}: unknown {', '.join(unknown)}; join with '+' any of "
                         f"{', '.join(SETTING_TOKENS)}")
    return tokens


def runtime_options(name: str) -> dict:
    """The runtime options of setting ``name``: fp32, contiguous and glibc's default malloc unless it says otherwise."""
    options = {"amp": False, "amp_dtype": "float16", "channels_last": False, "keep_freed_memory": False}
    for token in setting_tokens(name):
        options.update(PRECISIONS.get(token, {}), **MEMORY_FORMATS.get(token, {}))
        if token == "glibc_keep":
            options["keep_freed_memory"] = True
    return options


def runtime_flags(name: str) -> list[str]:
    """Setting ``name`` as command-line flags of a trainer (the options of ``add_runtime_args``)."""
    options = runtime_options(name)
    return ["--amp" if options["amp"] else "--no-amp", "--amp-dtype", options["amp_dtype"],
            "--channels-last" if options["channels_last"] else "--no-channels-last",
            "--keep-freed-memory" if options["keep_freed_memory"] else "--no-keep-freed-memory"]


def setting_env(name: str) -> dict[str, str]:
    """The process environment of setting ``name``: ``LD_PRELOAD`` for jemalloc / tcmalloc (glibc_keep is a runtime
    flag, not an environment variable)."""
    preloaded = [token for token in setting_tokens(name) if token in ALLOCATOR_LIBRARIES]
    return {"LD_PRELOAD": str(allocator_library(preloaded[-1]))} if preloaded else {}


def compare_settings(child_argv: list[str], settings: list[str], rounds: int) -> dict[str, list[dict]]:
    """Run ``child_argv + ["--setting", name]`` (a command that prints one JSON line) once per setting and round,
    alternated, each in a fresh process with the setting's allocator."""
    for name in settings:
        setting_tokens(name)  # every name checked before the first (long) run
    return alternate({name: Setting([*child_argv, "--setting", name], setting_env(name)) for name in settings},
                     rounds)


def print_settings_table(results: dict[str, list[dict]], unit: str, per_step: int) -> None:
    """Markdown table: setting, seconds per step, throughput, ratio to the first row, peak RSS."""
    first = median_of(next(iter(results.values())), "seconds_per_step")
    print(f"| setting | s / step | {unit} / s | speed vs first row | peak RSS MiB |")
    print("|---|---|---|---|---|")
    for name, rows in results.items():
        seconds = median_of(rows, "seconds_per_step")
        print(f"| {name} | {seconds:.3f} | {per_step / seconds:.1f} | {first / seconds:.2f}x | "
              f"{median_of(rows, 'peak_rss_mib'):.0f} |")


def add_benchmark_args(parser, sections: tuple[str, ...], default_settings: tuple[str, ...]) -> None:
    """The options every package's benchmark shares: what to time, under which settings, how often."""
    parser.add_argument("--sections", nargs="+", default=list(sections), choices=sections)
    parser.add_argument("--settings", nargs="+", default=list(default_settings), metavar="SETTING",
                        help="step section: each a '+'-joined choice of " + ", ".join(SETTING_TOKENS)
                             + " (unnamed: fp32, contiguous, glibc); the table's ratios are to the first")
    parser.add_argument("--rounds", type=positive_int, default=1, help="step section: alternation rounds")
    parser.add_argument("--steps", type=positive_int, default=2, help="timed steps per run (after a warm-up)")
    parser.add_argument("--threads", type=positive_int, default=2, help="torch CPU threads")
    parser.add_argument("--setting", default=None, help=argparse.SUPPRESS)  # a child run: one setting, one JSON line


def recipe_args(parser, config: str, configs_dir: Path, argv: list[str], setting: str = "fp32"):
    """A trainer's options for a benchmark: ``--config`` (a file, or a name in ``configs_dir``), then ``argv``, then
    the runtime flags of ``setting``."""
    from shared_utils.runs import parse_args_with_config

    path = Path(config) if Path(config).is_file() else configs_dir / config
    return parse_args_with_config(parser, ["--config", str(path), *argv, *runtime_flags(setting)])


def time_train_steps(model, batch, optimizer, loss_fn, rt, steps: int) -> float:
    """Seconds per step of the trainers' own step (``shared_utils.engine.train_one_epoch``) on one fixed batch,
    after one untimed warm-up step (allocator, oneDNN kernel choice)."""
    import time

    from shared_utils.engine import train_one_epoch

    train_one_epoch(model, [batch], optimizer, loss_fn, rt, epoch=0)
    started = time.perf_counter()
    train_one_epoch(model, [batch] * steps, optimizer, loss_fn, rt, epoch=1)
    return (time.perf_counter() - started) / steps


def run_sections(args, module: str, child_argv: list[str], header: str, unit: str, per_step: int,
                 loader_rate: Callable[[], dict], step_seconds: Callable[[str], dict]) -> dict:
    """The packages' bench.py after parsing: a child run (``--setting``) prints its setting's step as one JSON line;
    otherwise the header, then the ``loader`` section (``loader_rate() -> {"rate", "count", "peak_rss_mib"}``) and
    the ``step`` section (each of ``--settings`` in its own process, ``python -m module *child_argv --setting S``,
    alternated over ``--rounds``), as a table."""
    if args.setting:
        result = step_seconds(args.setting)
        print(json.dumps(result), flush=True)
        return result
    import torch

    torch.set_num_threads(args.threads)
    print(f"# {header}; threads {args.threads}")
    result: dict = {}
    if "loader" in args.sections:
        result["loader"] = row = loader_rate()
        print(f"loader (the training DataLoader alone, {row['count']} {unit}): {row['rate']:.1f} {unit}/s, peak RSS "
              f"{row['peak_rss_mib']:.0f} MiB", flush=True)
    if "step" in args.sections:
        child = [sys.executable, "-m", module, *child_argv, "--steps", str(args.steps), "--threads", str(args.threads)]
        result["step"] = compare_settings(child, args.settings, args.rounds)
        print(f"step ({args.steps} steps a run, {args.rounds} alternated rounds, medians):")
        print_settings_table(result["step"], unit, per_step)
    return result
