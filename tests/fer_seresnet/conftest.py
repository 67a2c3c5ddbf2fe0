"""Fixtures for the fer_seresnet tests: one demo dataset written once per session, the real FER2013 unpacked once."""

from __future__ import annotations

import tarfile

import pytest
from helpers.shared_data import shared_path

from fer_seresnet.demo_data import write_demo


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory):
    """Demo data in both FER2013 layouts (+ FER+ votes and a RAF-DB-layout set)."""
    return write_demo(tmp_path_factory.mktemp("fer_demo"), layout="both")


@pytest.fixture(scope="session")
def real_fer2013(tmp_path_factory):
    """The real FER2013 (../shared) unpacked: ``train/<class>/`` and ``test/<class>/`` (skips when absent)."""
    archive = shared_path("data/fer2013/fer2013_msambare_train_publictest.tar.gz")
    root = tmp_path_factory.mktemp("fer2013")
    with tarfile.open(archive) as tar:
        tar.extractall(root, filter="data")
    return root
