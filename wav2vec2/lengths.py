"""The conv feature encoder's output length: one formula for the model, the loss, the data pipeline and export."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wav2vec2.config import Wav2Vec2Config

if TYPE_CHECKING:
    import tensorflow as tf

# TensorFlow is imported by the functions on tensors: `receptive_field` is integer arithmetic that the chunking
# of the TF Serving gateway needs, and that gateway runs without TensorFlow (docs/deployment.md).


def frame_lengths(sample_lengths: tf.Tensor | int, config: Wav2Vec2Config) -> tf.Tensor:
    """Number of encoder frames for each number of samples: per conv block, L = floor((L - k) / s) + 1.

    Lengths shorter than the receptive field give 0 frames (never negative), so such rows are masked out
    instead of wrapping around.
    """
    import tensorflow as tf

    lengths = tf.cast(tf.convert_to_tensor(sample_lengths), tf.int32)
    for kernel, stride in zip(config.conv_kernel, config.conv_stride, strict=True):
        lengths = conv_output_length(lengths, kernel, stride)
    return lengths


def conv_output_length(lengths: tf.Tensor, kernel: int, stride: int) -> tf.Tensor:
    """Output length of one unpadded strided conv, floored at 0."""
    import tensorflow as tf

    return tf.maximum(tf.math.floordiv(lengths - kernel, stride) + 1, 0)


def receptive_field(config: Wav2Vec2Config) -> int:
    """Fewest samples that give one frame (400 for the base model: 25 ms)."""
    field = 1
    for kernel, stride in reversed(list(zip(config.conv_kernel, config.conv_stride, strict=True))):
        field = (field - 1) * stride + kernel
    return field
