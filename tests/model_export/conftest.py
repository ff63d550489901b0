"""Shared fixtures: tiny random wav2vec2 models (both architectures), exported once per test run."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import tensorflow as tf

from tests.support.tiny_models import tiny_checkpoint, tiny_export
from wav2vec2 import Wav2Vec2ForCTC, Wav2Vec2Processor

FSDD = Path(__file__).resolve().parents[1] / "fixtures" / "fsdd"  # CC BY-SA 4.0: see its README


@pytest.fixture(scope="session")
def to_wav() -> Callable[[np.ndarray, int, str], bytes]:
    """Returns a function encoding `[samples]` or `[samples, channels]` audio as WAV file bytes."""

    def encode(audio: np.ndarray, rate_hz: int, subtype: str = "PCM_16") -> bytes:
        buffer = io.BytesIO()
        sf.write(buffer, audio, rate_hz, format="WAV", subtype=subtype)
        return buffer.getvalue()

    return encode


@dataclass
class Exported:
    model: Wav2Vec2ForCTC
    processor: Wav2Vec2Processor
    path: Path
    loaded: tf.Module

    def signature(self, name: str):  # noqa: ANN201 - a ConcreteFunction
        return self.loaded.signatures[name]


def _exported(tmp_path_factory: pytest.TempPathFactory, feat_extract_norm: str) -> Exported:
    """The shared tiny export, with the model it was exported from (loaded from the same checkpoint)."""
    checkpoint = tiny_checkpoint(tmp_path_factory, feat_extract_norm)
    path = tiny_export(tmp_path_factory, feat_extract_norm) / "1"
    model = Wav2Vec2ForCTC.from_pretrained(checkpoint)
    return Exported(model, Wav2Vec2Processor.from_pretrained(checkpoint), path, tf.saved_model.load(str(path)))


@pytest.fixture(scope="session")
def exported_group(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    return _exported(tmp_path_factory, "group")


@pytest.fixture(scope="session")
def exported_layer(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    return _exported(tmp_path_factory, "layer")


@pytest.fixture(scope="session")
def speech() -> list[np.ndarray]:
    """Three real 8 kHz recordings of spoken digits (different speakers and lengths)."""
    names = ("7_jackson_32.wav", "3_george_4.wav", "0_lucas_12.wav")
    return [sf.read(FSDD / name, dtype="float32")[0] for name in names]
