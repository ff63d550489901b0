"""Tiny wav2vec2 configs the tests share, and the seeded checkpoint and SavedModel made from them once per run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.built_once import built_once
from wav2vec2.config import Wav2Vec2Config

SMALL_BASE_STYLE = dict(
    hidden_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=128,
    conv_dim=(32, 32, 32),
    conv_kernel=(10, 3, 3),
    conv_stride=(5, 2, 2),
    num_conv_pos_embeddings=16,
    num_conv_pos_embedding_groups=4,
)
# large-lv60 style: layer norm in every conv block, conv biases, stable pre-LN transformer.
SMALL_LV60_STYLE = dict(SMALL_BASE_STYLE, feat_extract_norm="layer", do_stable_layer_norm=True, conv_bias=True)
# For tests that export and run whole seconds of audio: a conv stack striding 5·4·4 = 80 samples (200 frames/s, the
# real models stride 320) instead of 5·2·2 = 20 gives a quarter of the frames, so attention over the 3 s batch of
# `asr export --verify` costs a sixteenth and the verification about half.
FEWER_FRAMES = dict(conv_kernel=(10, 4, 4), conv_stride=(5, 4, 4))


def tiny_config(feat_extract_norm: str = "group") -> Wav2Vec2Config:
    """Returns a 2-layer, 64-wide config of the base ("group") or large-lv60 ("layer", stable LN) architecture."""
    return Wav2Vec2Config(**(SMALL_LV60_STYLE if feat_extract_norm == "layer" else SMALL_BASE_STYLE) | FEWER_FRAMES)


def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory, feat_extract_norm: str = "group") -> Path:
    """Returns a random tiny model (seed 0) and the base-960h processor, written by `save_pretrained` (HF layout)."""

    def build(directory: Path) -> None:
        import keras

        from wav2vec2 import Wav2Vec2ForCTC, Wav2Vec2Processor

        keras.utils.set_random_seed(0)
        Wav2Vec2ForCTC(tiny_config(feat_extract_norm)).build_weights().save_pretrained(directory)
        Wav2Vec2Processor().save_pretrained(directory)

    return built_once(tmp_path_factory, f"checkpoint-{feat_extract_norm}", build)


def tiny_export(tmp_path_factory: pytest.TempPathFactory, feat_extract_norm: str = "group") -> Path:
    """Returns `DIR/tiny-NORM/`, holding version 1: `tiny_checkpoint` exported by `model_export` (TF Serving layout)."""
    checkpoint = tiny_checkpoint(tmp_path_factory, feat_extract_norm)
    name = f"tiny-{feat_extract_norm}"

    def build(directory: Path) -> None:
        from model_export.export import export_saved_model
        from wav2vec2 import Wav2Vec2ForCTC, Wav2Vec2Processor

        model = Wav2Vec2ForCTC.from_pretrained(checkpoint)
        export_saved_model(model, Wav2Vec2Processor.from_pretrained(checkpoint), directory, name, 1)

    return built_once(tmp_path_factory, f"export-{name}", build) / name
