"""Per-channel statistics of a strided 1-D convolution's output, taken from its input patches.

Block 0 of the base feature encoder normalises each of its 512 output channels by their mean and variance over
time (HF's GroupNorm with one group per channel). Its output, `[batch, 3200 frames per second, 512]`, is the widest
tensor of the model, and reducing it costs several passes over it. A convolution is linear in its input patches,
so with `P` a frame's patch (its `kernel_size × in_channels` input samples) and `w_c` channel c's weights:

    mean_c = mean(P) · w_c + bias_c          variance_c = w_cᵀ · cov(P) · w_c

Block 0 sees the waveform (one input channel, kernel 10): the patches are 10-dim, so their mean and 10 × 10
covariance cost a few percent of one pass over the output, and the norm becomes one multiply-add per value.
Measured on the base model, 10 s, two threads: see model_export/README.md ("float32").
"""

from __future__ import annotations

import tensorflow as tf

from wav2vec2.lengths import conv_output_length


def has_patch_moments(kernel_size: int, stride: int) -> bool:
    """Whether `patch_conv_moments` applies: its patches, built by reshaping, need a kernel of whole strides."""
    return kernel_size % stride == 0


def conv_patches(inputs: tf.Tensor, kernel_size: int, stride: int) -> tf.Tensor:
    """Returns the input patch of every output frame of a VALID strided convolution, `[batch, frames, kernel * in]`."""
    # inputs: [batch, samples, in_channels]
    in_channels = inputs.shape[-1]
    steps = kernel_size // stride  # strides per kernel
    frames = conv_output_length(tf.shape(inputs)[1], kernel_size, stride)
    rows = tf.reshape(inputs[:, : (frames + steps - 1) * stride], [tf.shape(inputs)[0], -1, stride * in_channels])
    return tf.concat([rows[:, step : step + frames] for step in range(steps)], axis=-1)


def patch_conv_moments(
    inputs: tf.Tensor,
    kernel: tf.Tensor,
    stride: int,
    bias: tf.Tensor | None = None,
    frame_mask: tf.Tensor | None = None,
) -> tuple[tf.Tensor, tf.Tensor]:
    """Returns the mean and biased variance over valid frames of `conv1d(inputs, kernel) + bias`, `[batch, 1, out]`.

    Equal to reducing the convolution's output (to float32 rounding), without computing it.
    """
    # inputs: [batch, samples, in]; kernel: [kernel_size, in, out]; frame_mask: [batch, frames] bool
    kernel_size, _, out_channels = kernel.shape
    patches = conv_patches(tf.cast(inputs, tf.float32), kernel_size, stride)  # [batch, frames, patch]
    weights = tf.reshape(tf.cast(kernel, tf.float32), [-1, out_channels])  # [patch, out]
    if frame_mask is None:
        frame_weights = tf.ones_like(patches[:, :, :1])
    else:
        frame_weights = tf.expand_dims(tf.cast(frame_mask[:, : tf.shape(patches)[1]], tf.float32), -1)
    count = tf.maximum(tf.reduce_sum(frame_weights, axis=1, keepdims=True), 1.0)  # [batch, 1, 1]
    patch_mean = tf.reduce_sum(patches * frame_weights, axis=1, keepdims=True) / count  # [batch, 1, patch]
    centered = (patches - patch_mean) * frame_weights
    covariance = tf.matmul(centered, centered, transpose_a=True) / count  # [batch, patch, patch]
    # Products with the kernel as broadcast multiply-and-sum (a few thousand values), not matmuls: TensorFlow Lite's
    # int8 conversion would quantize a matmul's constant weights, and with them the statistics.
    mean = tf.reduce_sum(tf.transpose(patch_mean, [0, 2, 1]) * weights, axis=1, keepdims=True)  # [batch, 1, out]
    if bias is not None:
        mean += tf.cast(bias, tf.float32)
    covariance_weights = tf.reduce_sum(tf.expand_dims(covariance, -1) * weights, axis=2)  # [batch, patch, out]
    variance = tf.reduce_sum(covariance_weights * weights, axis=1, keepdims=True)  # [batch, 1, out]
    return mean, tf.maximum(variance, 0.0)
