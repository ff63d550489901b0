"""The conv feature encoder's output length: one formula for the model, the loss, the data pipeline and export.

The arithmetic is plain integer code that also runs on int32 tensors, so a module that only counts samples and
frames (chunking a long recording) imports it without TensorFlow; `frame_lengths` loads TensorFlow itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from wav2vec2.config import Wav2Vec2Config

if TYPE_CHECKING:
    import tensorflow as tf

Length = TypeVar("Length")  # an int, or an int32 tensor of lengths


def conv_output_length(lengths: Length, kernel: int, stride: int) -> Length:
    """Output length of one unpadded strided conv, floor((L - k) / s) + 1, floored at 0: for ints and tensors."""
    length = (lengths - kernel) // stride + 1
    # max(length, 0) written with operators ints and tensors share (both floor-divide, both have abs): a length
    # shorter than the kernel gives 0 frames, never a negative count that would wrap around in a mask.
    return (length + abs(length)) // 2


def frame_count(num_samples: Length, config: Wav2Vec2Config) -> Length:
    """Number of encoder frames for a number of samples (0 below the receptive field): an int for an int."""
    for kernel, stride in zip(config.conv_kernel, config.conv_stride, strict=True):
        num_samples = conv_output_length(num_samples, kernel, stride)
    return num_samples


def frame_lengths(sample_lengths: tf.Tensor | int, config: Wav2Vec2Config) -> tf.Tensor:
    """Returns int32 encoder frames for each number of samples: `frame_count` on a tensor, usable in graphs."""
    import tensorflow as tf

    return frame_count(tf.cast(tf.convert_to_tensor(sample_lengths), tf.int32), config)


def receptive_field(config: Wav2Vec2Config) -> int:
    """Fewest samples that give one frame (400 for the base model: 25 ms)."""
    field = 1
    for kernel, stride in reversed(list(zip(config.conv_kernel, config.conv_stride, strict=True))):
        field = (field - 1) * stride + kernel
    return field
