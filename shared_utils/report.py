"""``python -m shared_utils.report runs/`` -> ``runs/RESULTS.md``: paper vs ours, per package.

Every ``results.json`` under the folder is read (and validated); each package's
``paper_results.json`` (next to its ``__init__.py``) supplies the published numbers.  A paper
entry is paired with a result of the same package, experiment and metric name.  Results on demo
data are listed, but marked as not comparable and given no difference column.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from shared_utils.checkpoint import atomic_write_text
from shared_utils.results import load_results

PAPER_FIELDS = ("experiment", "metric", "value", "source")


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


def build_report(results_root: Path, package_root: Path | None = None) -> str:
    results_files = sorted(results_root.rglob("results.json"))
    records = [(path, load_results(path)) for path in results_files]
    packages = sorted({record["package"] for _, record in records})
    lines = [
        "# Results: paper vs ours",
        "",
        f"Collected from {len(records)} results.json file(s) under `{results_root}` "
        "by `python -m shared_utils.report`.",
        "Rows on **demo** data come from small generated datasets: they show the pipeline works and beats the",
        "trivial baseline; they are **not comparable** to the papers' numbers.",
        "",
    ]
    if not records:
        lines.append("No results found.")
    for package in packages:
        paper = load_paper_results(package, package_root)
        mine = [(p, r) for p, r in records if r["package"] == package]
        lines += [f"## {package}", ""]
        if paper:
            lines += [f"Paper: {paper.get('paper', 'n/a')}", ""]
        lines += [
            "| experiment | dataset | data | split | metric | paper | ours | ours - paper | trivial baseline "
            "| source |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        matched_paper = set()
        for path, record in mine:
            entries = [e for e in (paper or {}).get("entries", []) if e["experiment"] == record["experiment"]]
            metric_names = [e["metric"] for e in entries] or [
                k for k, v in record["metrics"].items() if not isinstance(v, dict)
            ][:4]
            for name in metric_names:
                entry = next((e for e in entries if e["metric"] == name), None)
                ours = _metric(record, name)
                comparable = record["data"] == "real" and entry is not None and ours is not None
                if entry is None:
                    diff = ""
                elif comparable:
                    diff = _fmt(float(ours) - float(entry["value"]))
                else:
                    diff = "not comparable"
                data_cell = "real" if record["data"] == "real" else "**demo**"
                lines.append(
                    f"| {record['experiment']} | {record['dataset']} | {data_cell} | {record['split']} | {name} | "
                    f"{_fmt(entry['value']) if entry else ''} | {_fmt(ours)} | {diff} | "
                    f"{_fmt(record['baseline'].get(name))} | {entry['source'] if entry else path.parent.name} |"
                )
                if entry is not None:
                    matched_paper.add((entry["experiment"], entry["metric"]))
        for entry in (paper or {}).get("entries", []):
            if (entry["experiment"], entry["metric"]) not in matched_paper:
                lines.append(
                    f"| {entry['experiment']} | {entry.get('dataset', '')} | paper only | {entry.get('split', '')} | "
                    f"{entry['metric']} | {_fmt(entry['value'])} | {entry.get('ours_note', 'not run')} | | | "
                    f"{entry['source']} |"
                )
        lines.append("")
        lines.append("Commands:")
        lines.append("")
        for _path, record in mine:
            lines.append(f"- `{record['experiment']}` ({_fmt(record['wall_seconds'])} s on {record['device']}, "
                         f"commit {record['git_commit'][:12]}): `{record['command']}`")
        lines.append("")
    return "\n".join(lines) + "\n"


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
