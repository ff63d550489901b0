"""Relative positional information: a wide grouped conv with weight norm, added to the frames as a residual."""

from __future__ import annotations

import keras
import tensorflow as tf

from wav2vec2.activations import get_activation
from wav2vec2.serialization import register


@register
class PositionalConvEmbedding(keras.layers.Layer):
    """Grouped Conv1D (base: kernel 128, 16 groups) whose kernel is weight-normalised along the kernel axis.

    Weights are kept as weight norm's g and v (PyTorch `weight_norm(conv, dim=2)`): g has one scale per kernel
    position and ||v|| is taken over the other two axes, so fine-tuning trains g and v as the reference does.
    Layouts are Keras': v is `[kernel, channels / groups, channels]`.
    """

    def __init__(
        self, hidden_size: int, kernel_size: int, groups: int, activation: str = "gelu", **kwargs: object
    ) -> None:
        super().__init__(**kwargs)
        if hidden_size % groups:
            raise ValueError(f"hidden_size={hidden_size} is not divisible by groups={groups}")
        self.hidden_size = hidden_size
        self.kernel_size = kernel_size
        self.groups = groups
        self.activation = activation
        self.activation_fn = get_activation(activation)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        fan_in = self.kernel_size * self.hidden_size // self.groups
        self.weight_v = self.add_weight(
            name="weight_v",
            shape=(self.kernel_size, self.hidden_size // self.groups, self.hidden_size),
            initializer=keras.initializers.RandomNormal(stddev=(2.0 / fan_in) ** 0.5),
        )
        self.weight_g = self.add_weight(name="weight_g", shape=(self.kernel_size,), initializer="ones")
        self.bias = self.add_weight(name="bias", shape=(self.hidden_size,), initializer="zeros")

    def kernel(self) -> tf.Tensor:
        """g * v / ||v||, the norm over everything but the kernel axis."""
        v = tf.cast(self.weight_v, tf.float32)
        norm = tf.sqrt(tf.reduce_sum(tf.square(v), axis=[1, 2], keepdims=True))
        return tf.reshape(tf.cast(self.weight_g, tf.float32), [-1, 1, 1]) * v / norm

    def call(self, x: tf.Tensor) -> tf.Tensor:
        # x: [batch, frames, hidden]. PyTorch pads k//2 on both sides and, for an even kernel, drops the extra
        # last frame; padding (k//2, k//2 - 1 + k%2) gives the same frames directly.
        left = self.kernel_size // 2
        right = self.kernel_size - 1 - left
        padded = tf.pad(x, [[0, 0], [left, right], [0, 0]])
        kernel = tf.cast(self.kernel(), x.dtype)
        # One ungrouped conv per group, not tf.nn.conv1d's grouped form: TF's CPU kernels have no input gradient
        # for grouped convs ("Gradients for grouped convolutions are not supported on CPU"), so training on CPU
        # needs this. Its outputs are identical, and on CPU it is faster (docs/architecture.md, `wav2vec2/`).
        groups = zip(tf.split(padded, self.groups, axis=-1), tf.split(kernel, self.groups, axis=-1), strict=True)
        out = tf.concat([tf.nn.conv1d(part, weights, stride=1, padding="VALID") for part, weights in groups], axis=-1)
        out = out + tf.cast(self.bias, x.dtype)
        return self.activation_fn(out)

    def get_config(self) -> dict[str, object]:
        return {
            **super().get_config(),
            "hidden_size": self.hidden_size,
            "kernel_size": self.kernel_size,
            "groups": self.groups,
            "activation": self.activation,
        }
