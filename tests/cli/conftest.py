"""Fixtures of the `asr` tests: the tiny checkpoint's TF Serving export (checkpoint: tests/conftest.py)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.support.tiny_models import tiny_export


@pytest.fixture(scope="session")
def model_base_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`DIR/tiny-group/` holding version 1: the tiny checkpoint exported by `model_export`."""
    return tiny_export(tmp_path_factory)


@pytest.fixture(autouse=True)
def _restore_root_logging():
    """`asr serve`/`asr wyoming` configure the root logger onto this test's captured stderr; undo that after it.

    Otherwise the next test's log records go to a stream pytest has closed ("--- Logging error ---").
    """
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
