"""Shared fixtures: tiny random wav2vec2 models (both architectures), exported once per test session."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pytest
import soundfile as sf
import tensorflow as tf

from model_export.export import export_saved_model
from tests.support.hf_checkpoints import FEWER_FRAMES, SMALL_BASE_STYLE, SMALL_LV60_STYLE
from wav2vec2 import Wav2Vec2Config, Wav2Vec2ForCTC, Wav2Vec2Processor

FSDD = Path(__file__).resolve().parents[1] / "fixtures" / "fsdd"  # CC BY-SA 4.0: see its README


def tiny_config(feat_extract_norm: str) -> Wav2Vec2Config:
    """Returns a 2-layer, 64-wide config of the base ("group") or large-lv60 ("layer", stable LN) architecture."""
    return Wav2Vec2Config(**(SMALL_LV60_STYLE if feat_extract_norm == "layer" else SMALL_BASE_STYLE) | FEWER_FRAMES)


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


def _export(feat_extract_norm: str, out_dir: Path) -> Exported:
    keras.utils.set_random_seed(0)
    model = Wav2Vec2ForCTC(tiny_config(feat_extract_norm)).build_weights()
    processor = Wav2Vec2Processor()
    path = export_saved_model(model, processor, out_dir, f"tiny-{feat_extract_norm}", 1)
    return Exported(model, processor, path, tf.saved_model.load(str(path)))


@pytest.fixture(scope="session")
def exported_group(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    return _export("group", tmp_path_factory.mktemp("export"))


@pytest.fixture(scope="session")
def exported_layer(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    return _export("layer", tmp_path_factory.mktemp("export"))


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random model and the base-960h processor, written by `save_pretrained` (HF layout)."""
    directory = tmp_path_factory.mktemp("checkpoint")
    keras.utils.set_random_seed(0)
    Wav2Vec2ForCTC(tiny_config("group")).build_weights().save_pretrained(directory)
    Wav2Vec2Processor().save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def speech() -> list[np.ndarray]:
    """Three real 8 kHz recordings of spoken digits (different speakers and lengths)."""
    names = ("7_jackson_32.wav", "3_george_4.wav", "0_lucas_12.wav")
    return [sf.read(FSDD / name, dtype="float32")[0] for name in names]
