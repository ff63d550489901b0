"""A strided VALID Conv1D whose gradients are matmuls over frames, for training the conv feature encoder."""

from __future__ import annotations

import tensorflow as tf


def conv1d_with_matmul_gradients(x: tf.Tensor, kernel: tf.Tensor, stride: int) -> tf.Tensor:
    """Returns `tf.nn.conv1d(x, kernel, stride, "VALID")`, with its gradients computed as matmuls.

    TensorFlow's CPU convolution gradients are much slower than its forward pass on the feature encoder's shapes
    (512 channels, kernels of 2-10 taps, strides 2-5, tens of thousands of frames); PyTorch's are not. Each tap
    `j` of the kernel is a matmul between the frames and the input steps `j, j + stride, ...`, so both gradients
    are a few large matmuls: the kernel's from the strided input steps, the input's from the output gradient
    times the kernel, laid back onto the steps it came from. The forward pass stays TensorFlow's convolution.
    """
    # x: [batch, steps, channels_in]; kernel: [taps, channels_in, channels_out] → [batch, frames, channels_out]
    taps, channels_in, channels_out = kernel.shape

    @tf.custom_gradient
    def conv(x: tf.Tensor, kernel: tf.Tensor) -> tuple[tf.Tensor, object]:
        def gradients(upstream: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            # upstream: [batch, frames, channels_out]
            batch, steps, frames = tf.shape(x)[0], tf.shape(x)[1], tf.shape(upstream)[1]
            flat_upstream = tf.reshape(upstream, [-1, channels_out])
            tap_inputs = [x[:, tap : tap + stride * (frames - 1) + 1 : stride] for tap in range(taps)]
            kernel_gradient = tf.stack(
                [tf.matmul(tf.reshape(steps_in, [-1, channels_in]), flat_upstream, transpose_a=True)
                 for steps_in in tap_inputs]
            )  # fmt: skip
            # What each frame sends back to each tap's input step: [batch, frames, taps, channels_in].
            per_tap = tf.reshape(
                tf.matmul(flat_upstream, tf.reshape(kernel, [taps * channels_in, channels_out]), transpose_b=True),
                [batch, frames, taps, channels_in],
            )
            # Tap j of frame t lands on step t * stride + j: phase j % stride, stride-sized block t + j // stride.
            blocks = frames + (taps - 1) // stride
            phases = []
            for phase in range(stride):
                total = tf.zeros([batch, blocks, channels_in], x.dtype)
                for tap in range(phase, taps, stride):
                    shift = tap // stride
                    total += tf.pad(per_tap[:, :, tap], [[0, 0], [shift, blocks - frames - shift], [0, 0]])
                phases.append(total)
            interleaved = tf.reshape(tf.stack(phases, axis=2), [batch, blocks * stride, channels_in])
            missing = tf.maximum(steps - blocks * stride, 0)  # steps past the last window get no gradient
            input_gradient = tf.pad(interleaved, [[0, 0], [0, missing], [0, 0]])[:, :steps]
            return input_gradient, kernel_gradient

        return tf.nn.conv1d(x, kernel, stride=stride, padding="VALID"), gradients

    return conv(x, kernel)
