"""Fixtures of the `asr` tests: a tiny random checkpoint in HF layout, and its TF Serving export."""

from __future__ import annotations

import logging
from pathlib import Path

import keras
import pytest

from model_export.export import export_saved_model
from tests.support.hf_checkpoints import FEWER_FRAMES, SMALL_BASE_STYLE
from wav2vec2 import Wav2Vec2Config, Wav2Vec2ForCTC, Wav2Vec2Processor


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random model and the base-960h processor, written by `save_pretrained` (HF layout)."""
    directory = tmp_path_factory.mktemp("checkpoint")
    keras.utils.set_random_seed(0)
    Wav2Vec2ForCTC(Wav2Vec2Config(**SMALL_BASE_STYLE | FEWER_FRAMES)).build_weights().save_pretrained(directory)
    Wav2Vec2Processor().save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def model_base_path(checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`DIR/tiny/` holding version 1: the tiny checkpoint exported by `model_export`."""
    out_dir = tmp_path_factory.mktemp("exports")
    model = Wav2Vec2ForCTC.from_pretrained(checkpoint)
    export_saved_model(model, Wav2Vec2Processor.from_pretrained(checkpoint), out_dir, "tiny", 1)
    return out_dir / "tiny"


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
