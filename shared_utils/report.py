"""``python -m shared_utils.report runs/`` -> ``runs/RESULTS.md``: published vs ours, per package.

Every ``results.json`` under the folder, and under each package's ``results/`` folder (real runs kept in the
repository), is read and validated; each package's ``paper_results.json`` supplies the published numbers, with
their sources (papers and original repositories). A published entry is paired with our results of the same
experiment and metric: on real data in one column, on demo data in another, marked and never compared.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from shared_utils.cli import ArgumentParser
from shared_utils.files import atomic_write_text
from shared_utils.results import load_results

PAPER_FIELDS = ("experiment", "metric", "value", "source")
KNOWN_PACKAGES = ("bodily_tsn", "emotic_context", "emotionroi_ex", "fer_seresnet")


def load_paper_results(package: str, search_root: Path | None = None) -> dict[str, Any] | None:
    """The package's paper_results.json, or None if the package has none."""
    candidates = []
    if search_root is not None:
        candidates.append(search_root / package / "paper_results.json")
    spec = importlib.util.find_spec(package) if package.isidentifier() else None
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(p) / "paper_results.json" for p in spec.submodule_search_locations]
    for path in candidates:
        if path.is_file():
            try:
                data = json.loads(path.read_text())
            except json.JSONDecodeError as exc:
                raise SystemExit(f"error: {path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
            for i, entry in enumerate(data.get("entries", [])):
                missing = [f for f in PAPER_FIELDS if f not in entry]
                if missing:
                    raise SystemExit(f"error: {path}: entry {i} is missing field(s): {', '.join(missing)}")
            return data
    return None


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _metric(record: dict[str, Any], name: str) -> Any:
    value = record["metrics"].get(name)
    return None if isinstance(value, dict) else value


def package_results_dir(package: str, package_root: Path | None = None) -> Path | None:
    """``<package>/results/``: the results.json of real runs kept in the repository (they are not re-run)."""
    candidates = [package_root / package / "results"] if package_root is not None else []
    spec = importlib.util.find_spec(package) if package.isidentifier() else None
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(p) / "results" for p in spec.submodule_search_locations]
    return next((c for c in candidates if c.is_dir()), None)


def collect_records(results_root: Path, packages: list[str], package_root: Path | None) -> list[tuple[Path, dict]]:
    """Every results.json under ``results_root`` and under each package's ``results/`` folder, read once."""
    paths = set(results_root.rglob("results.json"))
    for package in packages:
        kept = package_results_dir(package, package_root)
        if kept is not None:
            paths |= set(kept.rglob("results.json"))
    records, seen = [], set()
    for path in sorted(paths):
        record = load_results(path)
        # A kept copy of a run (``<package>/results/``) and the run folder it came from are one run, shown once.
        key = (record.get("package"), record.get("experiment"), record.get("data"), record.get("written_at"),
               record.get("git_commit"))
        if key not in seen:
            seen.add(key)
            records.append((path, record))
    return records


def _cell(records: list[tuple[Path, dict]], experiment: str, metric: str, data: str) -> tuple[str, dict | None]:
    """The newest matching result's value and record (runs of the same experiment: the latest wins)."""
    matches = [(r.get("written_at", ""), r) for _, r in records
               if r["experiment"] == experiment and r["data"] == data and _metric(r, metric) is not None]
    if not matches:
        return "", None
    record = max(matches, key=lambda m: m[0])[1]
    return _fmt(_metric(record, metric)), record


def _summary_metrics(record: dict[str, Any], limit: int = 4) -> str:
    """A few headline scalars of a run without a published counterpart (never per-class values)."""
    items = [(k, v) for k, v in record["metrics"].items()
             if not isinstance(v, (dict, list)) and "/" not in k and v is not None][:limit]
    return ", ".join(f"{k} {_fmt(v)}" for k, v in items)


def build_report(results_root: Path, package_root: Path | None = None) -> str:
    """Per package one table: each number the paper or original repository reports, beside ours on real data
    (with its command) and ours on demo data (marked, never compared)."""
    found = sorted({json.loads(p.read_text()).get("package", "") for p in results_root.rglob("results.json")}
                   if results_root.is_dir() else set())
    packages = sorted(set(found) | {p for p in KNOWN_PACKAGES if load_paper_results(p, package_root)})
    records = collect_records(results_root, packages, package_root)
    packages = sorted(set(packages) | {r["package"] for _, r in records})
    lines = [
        "# Results: published vs ours",
        "",
        f"Collected from {len(records)} results.json file(s) (under `{results_root}` and the packages' `results/` "
        "folders) by `python -m shared_utils.report`.",
        "Each row is a number a paper or an original repository reports. **Demo** values come from small generated",
        "datasets: they show the pipeline runs and learns; they are **not comparable** to the published numbers.",
        "",
    ]
    if not records:
        lines += ["No results found.", ""]
    for package in packages:
        paper = load_paper_results(package, package_root) or {"entries": []}
        mine = [(p, r) for p, r in records if r["package"] == package]
        lines += [f"## {package}", ""]
        if paper.get("paper"):
            lines += [f"Published: {paper['paper']}", ""]
        lines += ["| experiment | metric | published | ours, real data | ours, **demo** data (not comparable) "
                  "| source |", "|---|---|---|---|---|---|"]
        seen, shown = set(), set()
        for entry in paper["entries"]:
            key = (entry["experiment"], entry["metric"])
            if key in seen:
                continue
            seen.add(key)
            real, real_record = _cell(mine, *key, "real")
            demo, demo_record = _cell(mine, *key, "demo")
            if not real:
                real = entry.get("ours_note", "not run")
            shown |= {id(r) for r in (real_record, demo_record) if r is not None}
            lines.append(f"| {entry['experiment']} | {entry['metric']} | {_fmt(entry['value'])} | {real} | "
                         f"{f'**{demo}** (demo)' if demo else ''} | {entry['source']} |")
        others = [(p, r) for p, r in mine if id(r) not in shown]
        if others:
            lines += ["", "Runs with no published counterpart:", ""]
            for _path, record in others:
                lines.append(f"- `{record['experiment']}` ({'**demo**' if record['data'] != 'real' else 'real'} "
                             f"data): {_summary_metrics(record)}")
        if mine:
            lines += ["", "Commands:", ""]
            for _path, record in mine:
                lines.append(f"- `{record['experiment']}` ({record['data']}; {_fmt(record['wall_seconds'])} s on "
                             f"{record['device']}, commit {record['git_commit'][:12]}): `{record['command']}`")
        lines.append("")
    return "\n".join(lines) + "\n"


def get_args_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="?", default="runs", help="folder searched for results.json files")
    parser.add_argument("--out", default=None, help="output file (default RUNS/RESULTS.md)")
    parser.add_argument("--package-root", default=None, help="where to look for <package>/paper_results.json first")
    return parser


def main(argv: list[str] | None = None) -> Path:
    args = get_args_parser().parse_args(argv)
    root = Path(args.runs)
    if not root.is_dir():
        raise SystemExit(f"error: {root}: no such folder of runs")
    text = build_report(root, Path(args.package_root) if args.package_root else None)
    out = Path(args.out) if args.out else root / "RESULTS.md"
    atomic_write_text(out, text)
    print(f"wrote {out}", file=sys.stderr)
    return out


if __name__ == "__main__":
    main()
