"""Running an entry point on an ordinary mistake, as a user would type it, and checking the answer: a non-zero exit,
exactly one line on stderr that says ``error`` and names the option or file, no traceback, and no file created,
changed or removed under the test's folder (data and outputs hashed before and after).

The module runs as ``python -m`` would (``runpy``, in this process, so its imports are paid once per session).
"""

from __future__ import annotations

import hashlib
import runpy
import sys
from pathlib import Path

import pytest


def write_user_files(root: Path, configs: dict[str, str]) -> None:
    """What a user's workspace holds beside the data: a folder of their own (``user_data/notes.txt``), a plain file
    where a folder is expected (``a_file``), a .pt file that is not a checkpoint (``list.pt``) and config files
    (name -> text) with bad values."""
    import torch

    (root / "user_data").mkdir()
    (root / "user_data" / "notes.txt").write_text("a user's file\n")
    (root / "a_file").write_text("not a folder\n")
    torch.save([1, 2, 3], root / "list.pt")
    for name, text in configs.items():
        (root / name).write_text(text)


def tree_digest(root: Path) -> dict[str, str]:
    """Every path under ``root`` with its content hash ("dir" for folders)."""
    return {str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir")
            for p in sorted(root.rglob("*"))}


def case_ids(cases) -> list[str]:
    return [f"{module}:{' '.join(argv)}" for module, argv, *_ in cases]


def run_module(module: str, argv: list[str], monkeypatch) -> int | str | None:
    """Run ``python -m module argv...`` in this process; returns the SystemExit code (None when it returned)."""
    monkeypatch.setattr(sys, "argv", [module.rsplit(".", 1)[-1] + ".py", *argv])
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=False)
    except SystemExit as exc:
        return exc.code
    return None


def assert_one_line_error(module: str, argv: list[str], expected: str, root: Path, capsys, monkeypatch,
                          output: str | None = None) -> str:
    """The mistake's contract (see the module docstring); returns the error line. ``output``: a folder under
    ``root`` (relative) that the command may write before it meets the mistake (a run that started training and
    found a broken file mid-way keeps its log); nothing else may change."""
    before = tree_digest(root)
    code = run_module(module, argv, monkeypatch)
    err = capsys.readouterr().err
    # SystemExit("message") prints the message as the process's last stderr line; argparse writes its own line.
    lines = [line for line in err.splitlines() if line.strip()]
    if isinstance(code, str):
        lines.append(code)
    elif code in (0, None):
        pytest.fail(f"{module} {argv}: exited 0 on a mistake")
    assert "Traceback" not in err, err
    if output is not None:  # a run that started keeps its progress lines; the mistake is its one error line, last
        lines = [line for line in lines if "error" in line or "Error" in line] or lines[-1:]
    assert len(lines) == 1, f"{module} {argv}: expected one stderr line, got:\n" + "\n".join(lines)
    assert "error" in lines[0] and expected in lines[0], f"{module} {argv}: {lines[0]!r} lacks {expected!r}"
    after = tree_digest(root)
    changed = sorted(path for path, _ in set(before.items()) ^ set(after.items())
                     if output is None or not (path == output or path.startswith(output + "/")))
    assert not changed, f"{module} {argv} changed files under {root}: {changed[:6]}"
    return lines[0]
