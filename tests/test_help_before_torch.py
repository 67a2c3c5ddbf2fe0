"""Every entry point answers ``--help`` without importing torch (2-5 s here), in a fresh interpreter each.

The entry points are found, not listed: every module of the four packages, ``shared_utils`` and ``tools`` with a
``__main__`` block. Python's ``-X importtime`` names each module the command imported; the heavy ones must be absent.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("bodily_tsn", "emotic_context", "emotionroi_ex", "fer_seresnet", "shared_utils", "tools")
HEAVY = {"torch", "torchvision", "sklearn", "gradio", "scipy", "pandas"}


def entry_points() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if '__name__ == "__main__"' in path.read_text():
                found.append(".".join(path.relative_to(REPO).with_suffix("").parts))
    return found


def imported_modules(stderr: str) -> set[str]:
    return {line.rsplit("|", 1)[1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


def test_the_entry_points_are_found():
    found = entry_points()
    assert len(found) >= 40 and "fer_seresnet.train" in found and "bodily_tsn.tools.mask_faces" in found


@pytest.mark.parametrize("module", entry_points())
def test_help_answers_before_torch(module):
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", module, "--help"], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    seconds = time.perf_counter() - started
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("usage:")
    heavy = HEAVY & imported_modules(result.stderr)
    assert not heavy, f"{module} --help imported {heavy}"
    assert seconds < 10  # a loose bound for a loaded machine; the import check above is the real one


def test_the_originals_script_form_too():
    """``cd bodily_tsn && python train_EmoReact.py --help``, the original's way of running it."""
    result = subprocess.run([sys.executable, "-X", "importtime", "train_EmoReact.py", "--help"],
                            cwd=REPO / "bodily_tsn", capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "--input" in result.stdout and "torch" not in imported_modules(result.stderr)


def test_a_usage_error_still_names_the_option():
    """Parsing before torch changes nothing for a bad value: the same one-line error, exit 2."""
    result = subprocess.run([sys.executable, "-m", "fer_seresnet.train", "--epochs", "0"], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "--epochs" in result.stderr and "Traceback" not in result.stderr
