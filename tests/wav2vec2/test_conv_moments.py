"""Block 0's group-norm statistics from its input patches equal those of its output, padding excluded."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from wav2vec2.conv_moments import conv_patches, patch_conv_moments
from wav2vec2.feature_encoder import MaskedChannelNorm
from wav2vec2.lengths import conv_output_length


def test_patches_are_the_frames_a_strided_convolution_reads() -> None:
    inputs = tf.random.stateless_normal([2, 103, 3], seed=[1, 2])
    expected = tf.reshape(tf.signal.frame(inputs, 10, 5, axis=1), [2, -1, 30])
    np.testing.assert_array_equal(conv_patches(inputs, 10, 5).numpy(), expected.numpy())


def test_moments_equal_the_reduced_convolution_output_over_valid_frames() -> None:
    # A loud, offset waveform (mean far from zero) in a padded batch: the statistics must not lose precision to
    # the offset, and padded frames must not count.
    audio = 3.0 + 2.0 * tf.random.stateless_normal([2, 16000, 1], seed=[3, 4])
    kernel = tf.random.stateless_normal([10, 1, 64], seed=[5, 6])
    bias = tf.random.stateless_normal([64], seed=[7, 8])
    lengths = conv_output_length(tf.constant([16000, 9000]), 10, 5)
    outputs = tf.nn.conv1d(audio, kernel, 5, "VALID") + bias
    mask = tf.sequence_mask(lengths, maxlen=tf.shape(outputs)[1])
    expected_mean, expected_variance = MaskedChannelNorm.channel_moments(outputs, mask)
    mean, variance = patch_conv_moments(audio, kernel, 5, bias, mask)
    np.testing.assert_allclose(mean.numpy(), expected_mean.numpy(), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(variance.numpy(), expected_variance.numpy(), rtol=1e-4)
