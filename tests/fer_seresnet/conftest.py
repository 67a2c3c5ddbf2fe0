"""Fixtures for the fer_seresnet tests: one demo dataset written once per session."""

from __future__ import annotations

import pytest

from fer_seresnet.demo_data import write_demo


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory):
    """Demo data in both FER2013 layouts (+ FER+ votes and a RAF-DB-layout set)."""
    return write_demo(tmp_path_factory.mktemp("fer_demo"), layout="both")
