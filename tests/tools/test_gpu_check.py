"""``make gpu-check``: on a machine without CUDA it says so and exits 0; its report reads as intended."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


def _module():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "tools" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(torch.cuda.is_available(), reason="the CPU path only")
def test_without_cuda_it_says_so_and_exits_0(capsys, tmp_path):
    assert _module().main(["--out", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.startswith("gpu-check: no CUDA device on this machine")
    assert not (tmp_path / "out").exists()


def test_report_table(tmp_path):
    report = {"device": "NVIDIA H200", "torch": "2.13.0", "cuda": "13.0",
              "packages": {"bodily_tsn (TSM fusion, clips)": {"samples": 720, "seconds_fp32": 30.0, "seconds_amp": 12.0,
                                                              "metric_fp32": "roc_auc_micro 0.7300",
                                                              "metric_amp": "roc_auc_micro 0.7200"}},
              "torchrun": {"command": "torch.distributed.run ...", "returncode": 0, "seconds": 40.0,
                           "backend": "gloo (fewer than 2 GPUs)"},
              "fer_full": "fer2013_se_resnet18 (demo): accuracy 0.99 in 60 s"}
    text = _module().write_report(tmp_path, report).read_text()
    assert "| bodily_tsn (TSM fusion, clips) | 30.0 | 12.0 | 2.50x | 60.0 | roc_auc_micro 0.7300 |" in text
    assert "torchrun, 2 processes (gloo (fewer than 2 GPUs)): exit 0" in text
    assert (tmp_path / "gpu_check.json").is_file()
