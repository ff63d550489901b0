"""The conv feature encoder's resumable form: features from a frame on, and logits from features, equal the
whole-model call (what a live stream's feature cache relies on)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.support.tiny_models import tiny_config
from wav2vec2 import Wav2Vec2ForCTC


@pytest.fixture(scope="module", params=["group", "layer"])
def model(request) -> Wav2Vec2ForCTC:
    keras.utils.set_random_seed(0)
    return Wav2Vec2ForCTC(tiny_config(request.param)).build_weights()


def test_features_from_a_frame_equal_the_tail_of_the_whole_encoding(model):
    encoder = model.wav2vec2.feature_extractor
    audio = tf.constant(np.random.default_rng(0).standard_normal((2, 8_000)).astype(np.float32))
    lengths = tf.constant([8_000, 6_000])
    whole = encoder(audio, sample_lengths=lengths).numpy()
    for first_frame in (0, 1, 37, 60):
        tail = encoder.features_from(audio, lengths, tf.constant(first_frame)).numpy()
        assert tail.shape == whole[:, first_frame:].shape
        # Only the valid frames of the shorter row count (its padding's frames are masked later).
        np.testing.assert_allclose(tail[0], whole[0, first_frame:], rtol=1e-5, atol=1e-5)
        valid = 6_000 // model.config.total_stride - 1 - first_frame
        np.testing.assert_allclose(tail[1, :valid], whole[1, first_frame : first_frame + valid], atol=1e-5)


def test_logits_from_features_equal_the_model_call(model):
    audio = tf.constant(np.random.default_rng(1).standard_normal((1, 6_400)).astype(np.float32))
    features = model.wav2vec2.feature_extractor(audio)
    length = tf.constant([features.shape[1]])
    np.testing.assert_allclose(
        model.logits_from_features(features, length).numpy(), model(audio, training=False).numpy(), atol=1e-5
    )
