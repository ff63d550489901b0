"""SpecAugment as the model applies it in training: about the configured fraction masked, none in inference."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tests.support.tiny_models import SMALL_BASE_STYLE
from wav2vec2 import Wav2Vec2Config, Wav2Vec2ForCTC


def tiny_model(**changes) -> Wav2Vec2ForCTC:
    return Wav2Vec2ForCTC(Wav2Vec2Config(**{**SMALL_BASE_STYLE, "hidden_size": 32, **changes})).build_weights()


def test_time_masks_cover_about_mask_time_prob_with_the_learned_embedding() -> None:
    model = tiny_model(mask_time_prob=0.3, mask_time_length=5, mask_feature_prob=0.0)
    hidden = tf.ones([8, 500, 32])
    lengths = tf.constant([500] * 4 + [250] * 4)
    frame_mask = tf.sequence_mask(lengths, 500)

    masked = model.wav2vec2._spec_augment(hidden, frame_mask).numpy()

    embed = model.wav2vec2.masked_spec_embed.numpy()
    is_masked = np.all(masked == embed, axis=-1)
    # Spans of 5 may overlap, so the covered share is a little under the 30 % asked for (HF behaves alike).
    fraction = is_masked[:4].mean()
    assert 0.2 < fraction <= 0.32, fraction
    assert not is_masked[4:, 250:].any()  # never inside the padding
    assert 0.2 < is_masked[4:, :250].mean() <= 0.32


def test_feature_masks_zero_about_mask_feature_prob_of_channels() -> None:
    model = tiny_model(mask_time_prob=0.0, mask_feature_prob=0.25, mask_feature_length=2)
    masked = model.wav2vec2._spec_augment(tf.ones([64, 10, 32]), None).numpy()
    zero_channels = np.all(masked == 0, axis=1)  # [batch, channels]
    assert 0.15 < zero_channels.mean() <= 0.26, zero_channels.mean()


def test_masking_only_in_training() -> None:
    model = tiny_model(mask_time_prob=0.5, mask_time_length=2)
    audio = tf.random.stateless_normal([2, 16_000], seed=[1, 2])
    np.testing.assert_array_equal(model(audio, training=False).numpy(), model(audio, training=False).numpy())
    assert not np.allclose(model(audio, training=True).numpy(), model(audio, training=False).numpy())


def test_the_hub_configs_min_masks_do_not_mask_most_of_a_short_clip() -> None:
    # The hub configs' SpecAugment (5 %, spans of 10, at least 2 spans) on a 0.45 s digit (22 frames) beside a
    # 2 s utterance (100 frames): HF's rule masks up to 20 of the clip's 22 frames; here the guaranteed spans
    # stop at a fifth of the row, and the 2 s row keeps its 2 spans.
    model = tiny_model(mask_time_prob=0.05, mask_time_length=10, mask_time_min_masks=2, mask_feature_prob=0.0)
    lengths = tf.constant([22] * 32 + [100] * 32)
    masked = model.wav2vec2._spec_augment(tf.ones([64, 100, 32]), tf.sequence_mask(lengths, 100)).numpy()

    is_masked = np.all(masked == model.wav2vec2.masked_spec_embed.numpy(), axis=-1)
    assert is_masked[:32].sum(axis=1).max() <= 0.2 * 22
    assert 0.1 < is_masked[32:].mean() <= 0.2
