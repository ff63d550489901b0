"""Fixtures of the gateway tests: a real tiny exported SavedModel and the app over it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import tensorflow as tf
from fastapi.testclient import TestClient

from model_export.export import export_saved_model
from service import Settings, create_app
from tests.support.built_once import built_once
from wav2vec2.config import Wav2Vec2Config
from wav2vec2.model import Wav2Vec2ForCTC
from wav2vec2.processor import Wav2Vec2Processor

MODEL_NAME = "tiny"

# A few thousand parameters: random weights still give long, input-dependent transcripts, so any
# mix-up of audio between requests or rows of a batch changes the text.
TINY_CONFIG = Wav2Vec2Config(
    hidden_size=32,
    num_hidden_layers=1,
    num_attention_heads=2,
    intermediate_size=64,
    conv_dim=(16, 16, 16),
    conv_kernel=(10, 3, 3),
    conv_stride=(5, 2, 2),
    num_conv_pos_embeddings=16,
    num_conv_pos_embedding_groups=2,
)


@pytest.fixture(scope="session")
def model_base_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`DIR/tiny/` holding version 1: a random tiny Wav2Vec2ForCTC exported by `model_export` (once per run)."""

    def build(out_dir: Path) -> None:
        tf.keras.utils.set_random_seed(0)
        export_saved_model(Wav2Vec2ForCTC(TINY_CONFIG), Wav2Vec2Processor(), out_dir, MODEL_NAME, 1)

    return built_once(tmp_path_factory, "export-service-tiny", build) / MODEL_NAME


@pytest.fixture(scope="session")
def make_settings(model_base_path: Path) -> Callable[..., Settings]:
    """Returns a factory of settings over the tiny model with small limits; keyword arguments override."""

    def make(**overrides: object) -> Settings:
        values = dict(
            model_path=model_base_path,
            model_name=MODEL_NAME,
            max_upload_bytes=2_000_000,
            max_duration_h=10.0 / 3600,
            batch_max_size=8,
            batch_max_wait_ms=20.0,
        )
        return Settings(**{**values, **overrides})

    return make


@pytest.fixture(scope="session")
def client(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    """The gateway with the embedded backend over the tiny export (lifespan run: model loaded)."""
    with TestClient(create_app(make_settings())) as test_client:
        yield test_client
