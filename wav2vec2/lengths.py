"""The conv feature encoder's output length: one formula for the model, the loss, the data pipeline and export."""

from __future__ import annotations

import tensorflow as tf

from wav2vec2.config import Wav2Vec2Config


def frame_lengths(sample_lengths: tf.Tensor | int, config: Wav2Vec2Config) -> tf.Tensor:
    """Number of encoder frames for each number of samples: per conv block, L = floor((L - k) / s) + 1.

    Lengths shorter than the receptive field give 0 frames (never negative), so such rows are masked out
    instead of wrapping around.
    """
    lengths = tf.cast(tf.convert_to_tensor(sample_lengths), tf.int32)
    for kernel, stride in zip(config.conv_kernel, config.conv_stride, strict=True):
        lengths = conv_output_length(lengths, kernel, stride)
    return lengths


def conv_output_length(lengths: tf.Tensor, kernel: int, stride: int) -> tf.Tensor:
    """Output length of one unpadded strided conv, floored at 0."""
    return tf.maximum(tf.math.floordiv(lengths - kernel, stride) + 1, 0)


def receptive_field(config: Wav2Vec2Config) -> int:
    """Fewest samples that give one frame (400 for the base model: 25 ms)."""
    field = 1
    for kernel, stride in reversed(list(zip(config.conv_kernel, config.conv_stride, strict=True))):
        field = (field - 1) * stride + kernel
    return field
