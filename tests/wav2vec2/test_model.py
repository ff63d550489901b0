"""Model behaviour a trainer relies on: freezing, config round trips, clear loading errors, SpecAugment."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf

from tests.support.hf_checkpoints import SMALL_BASE_STYLE
from wav2vec2 import CheckpointNotFoundError, CTCLoss, Wav2Vec2Config, Wav2Vec2ForCTC
from wav2vec2.lengths import frame_lengths_py, receptive_field
from wav2vec2.spec_augment import compute_span_mask


def small_model(**overrides) -> Wav2Vec2ForCTC:
    return Wav2Vec2ForCTC(Wav2Vec2Config(**{**SMALL_BASE_STYLE, **overrides})).build_weights()


def test_frozen_feature_extractor_does_not_move_in_a_train_step():
    tf.keras.utils.set_random_seed(0)
    model = small_model(layerdrop=0.0)
    model.freeze_feature_extractor()
    frozen = [w.numpy().copy() for w in model.wav2vec2.feature_extractor.weights]
    trained = [w.numpy().copy() for w in model.lm_head.weights]
    audio = tf.random.normal([2, 4000])
    labels = tf.constant([[5, 6, 7], [8, 9, -100]])
    optimizer = tf.keras.optimizers.Adam(1e-2)
    loss_fn = CTCLoss()
    with tf.GradientTape() as tape:
        loss = loss_fn(labels, model(audio, training=True), logit_length=model.output_lengths([4000, 4000]))
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
    encoder_weights = model.wav2vec2.feature_extractor.weights
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(frozen, encoder_weights, strict=True))
    assert any(not np.array_equal(a, w.numpy()) for a, w in zip(trained, model.lm_head.weights, strict=True))
    assert not any(w is v for w in model.wav2vec2.feature_extractor.weights for v in model.trainable_variables)


def test_grouped_positional_conv_trains_on_cpu_in_graph_mode():
    model = small_model()

    @tf.function
    def step(audio):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(audio, training=True)))
        return tape.gradient(loss, model.wav2vec2.encoder.pos_conv_embed.weight_v)

    gradient = step(tf.random.normal([2, 3000]))
    assert np.isfinite(gradient.numpy()).all() and np.abs(gradient.numpy()).sum() > 0


def test_frame_length_formula():
    config = Wav2Vec2Config()
    assert frame_lengths_py(16000, config) == 49
    assert frame_lengths_py(400, config) == 1 and frame_lengths_py(399, config) == 0
    assert receptive_field(config) == 400
    assert small_model()(np.zeros((1, 16000), np.float32)).shape[1] == frame_lengths_py(16000, small_model().config)


def test_config_json_round_trip_keeps_unknown_fields(tmp_path):
    path = tmp_path / "config.json"
    values = Wav2Vec2Config(**SMALL_BASE_STYLE).to_dict() | {"some_future_field": 3}
    path.write_text(json.dumps(values))
    config = Wav2Vec2Config.from_json_file(path)
    config.to_json_file(tmp_path / "again.json")
    assert json.loads((tmp_path / "again.json").read_text())["some_future_field"] == 3
    assert config.conv_kernel == (10, 3, 3)


def test_invalid_config_names_the_value_and_the_choices():
    with pytest.raises(ValueError, match="feat_extract_norm='batch'.*'group', 'layer'"):
        Wav2Vec2Config(feat_extract_norm="batch")


def test_missing_checkpoint_gives_a_clear_error(tmp_path):
    with pytest.raises(CheckpointNotFoundError, match="no config.json"):
        Wav2Vec2ForCTC.from_pretrained(tmp_path)
    with pytest.raises(CheckpointNotFoundError, match="could not be fetched"):
        Wav2Vec2ForCTC.from_pretrained("nobody-here/no-such-model")


def test_new_vocab_size_keeps_body_and_reinitialises_head(tmp_path):
    model = small_model()
    model.save_pretrained(tmp_path)
    bigger = Wav2Vec2ForCTC.from_pretrained(tmp_path, vocab_size=40)
    assert bigger.lm_head.kernel.shape[-1] == 40
    np.testing.assert_array_equal(
        bigger.wav2vec2.feature_projection.projection.kernel.numpy(),
        model.wav2vec2.feature_projection.projection.kernel.numpy(),
    )


def test_spec_augment_masks_about_the_configured_fraction():
    lengths = tf.constant([500] * 64)
    mask = compute_span_mask(lengths, 600, mask_prob=0.3, mask_length=10, seed=tf.constant([1, 2]))
    fraction = float(tf.reduce_mean(tf.cast(mask[:, :500], tf.float32)))
    assert 0.18 < fraction < 0.32  # overlapping spans cover a little less than mask_prob
    assert not bool(tf.reduce_any(mask[:, 500:]))


def test_training_call_differs_and_inference_is_deterministic():
    model = small_model(mask_time_prob=0.5, mask_time_length=2, hidden_dropout=0.0, layerdrop=0.0)
    audio = np.random.default_rng(0).normal(size=(1, 8000)).astype(np.float32)
    np.testing.assert_array_equal(model(audio).numpy(), model(audio).numpy())
    assert not np.allclose(model(audio, training=True).numpy(), model(audio).numpy())
