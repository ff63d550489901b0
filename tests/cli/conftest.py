"""Fixtures of the `asr` tests: a tiny random checkpoint in HF layout and its TF Serving export, built once a run."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.support.tiny_models import tiny_checkpoint, tiny_export


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random model and the base-960h processor, written by `save_pretrained` (HF layout)."""
    return tiny_checkpoint(tmp_path_factory)


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
