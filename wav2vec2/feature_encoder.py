"""The convolutional feature encoder: raw audio → one 512-d vector per 20 ms frame."""

from __future__ import annotations

import keras
import tensorflow as tf

from wav2vec2.activations import get_activation
from wav2vec2.config import Wav2Vec2Config
from wav2vec2.conv_moments import has_patch_moments, patch_conv_moments
from wav2vec2.lengths import conv_output_length
from wav2vec2.serialization import ConfigSerializable, register
from wav2vec2.strided_conv import conv1d_with_matmul_gradients


@register
class MaskedChannelNorm(keras.layers.Layer):
    """GroupNorm with one group per channel (HF's conv block 0 in "group" mode), statistics over valid frames only.

    PyTorch's GroupNorm(512, 512) takes each channel's mean and biased variance over time, padding included;
    taking them over the valid frames alone is what makes a padded batch equal to one call per utterance.
    """

    def __init__(self, epsilon: float = 1e-5, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        channels = int(input_shape[-1])
        self.gamma = self.add_weight(name="gamma", shape=(channels,), initializer="ones")
        self.beta = self.add_weight(name="beta", shape=(channels,), initializer="zeros")

    def call(self, x: tf.Tensor, frame_mask: tf.Tensor | None = None) -> tf.Tensor:
        # x: [batch, frames, channels]; frame_mask: [batch, frames] bool
        return self.normalize(x, *self.channel_moments(x, frame_mask))

    def normalize(self, x: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor) -> tf.Tensor:
        """Returns `x` normalised with given channel statistics (`channel_moments`, perhaps of a longer input).

        A plain method, not a layer call: Keras would cast float32 statistics to a bfloat16 compute dtype.
        """
        # One multiply-add per value: the block-0 output this normalises is the model's widest tensor.
        scale = tf.math.rsqrt(variance + self.epsilon) * tf.cast(self.gamma, tf.float32)
        shift = tf.cast(self.beta, tf.float32) - mean * scale
        return tf.cast(tf.cast(x, tf.float32) * scale + shift, x.dtype)

    @staticmethod
    def channel_moments(x: tf.Tensor, frame_mask: tf.Tensor | None = None) -> tuple[tf.Tensor, tf.Tensor]:
        """Returns each channel's mean and biased variance over the valid frames, `[batch, 1, channels]` each."""
        x = tf.cast(x, tf.float32)
        if frame_mask is None:
            return tf.nn.moments(x, axes=[1], keepdims=True)
        weights = tf.expand_dims(tf.cast(frame_mask, tf.float32), -1)
        count = tf.maximum(tf.reduce_sum(weights, axis=1, keepdims=True), 1.0)
        mean = tf.reduce_sum(x * weights, axis=1, keepdims=True) / count
        return mean, tf.reduce_sum(tf.square(x - mean) * weights, axis=1, keepdims=True) / count

    def get_config(self) -> dict[str, object]:
        return {**super().get_config(), "epsilon": self.epsilon}


@register
class ConvBlock(keras.layers.Layer):
    """conv → norm (none, per-channel group norm, or layer norm over channels) → activation."""

    def __init__(
        self,
        filters: int,
        kernel_size: int,
        stride: int,
        use_bias: bool,
        norm: str | None,
        activation: str = "gelu",
        epsilon: float = 1e-5,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)
        if norm not in (None, "group", "layer"):
            raise ValueError(f"norm={norm!r} is not one of (None, 'group', 'layer')")
        self.filters = filters
        self.kernel_size = kernel_size
        self.stride = stride
        self.use_bias = use_bias
        self.norm = norm
        self.activation = activation
        self.epsilon = epsilon
        self.conv = keras.layers.Conv1D(filters, kernel_size, strides=stride, use_bias=use_bias, name="conv")
        if norm == "group":
            self.layer_norm = MaskedChannelNorm(epsilon=epsilon, name="layer_norm")
        elif norm == "layer":
            self.layer_norm = keras.layers.LayerNormalization(epsilon=epsilon, name="layer_norm")
        else:
            self.layer_norm = None
        self.activation_fn = get_activation(activation)
        self.training_activation_fn = get_activation(activation, training=True)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        # The group norm is applied through its `normalize` method, never called as a layer: build it here.
        if not self.conv.built:
            self.conv.build(input_shape)
        if self.norm == "group" and not self.layer_norm.built:
            self.layer_norm.build((None, None, self.filters))

    def call(self, x: tf.Tensor, output_lengths: tf.Tensor | None = None, training: bool | None = None) -> tf.Tensor:
        inputs = x
        if training:
            # The same convolution; only its gradients differ in how they are computed (see strided_conv). Inference
            # graphs, the exports among them, keep the plain layer.
            kernel = tf.cast(self.conv.kernel, x.dtype)
            x = conv1d_with_matmul_gradients(x, kernel, self.stride)
            if self.use_bias:
                x = tf.nn.bias_add(x, tf.cast(self.conv.bias, x.dtype))
        else:
            x = self.conv(x)
        if self.norm == "group":
            frame_mask = None
            if output_lengths is not None:
                frame_mask = tf.sequence_mask(output_lengths, maxlen=tf.shape(x)[1])
            x = self.layer_norm.normalize(x, *self.output_moments(inputs, x, frame_mask))
        elif self.norm == "layer":
            x = self.layer_norm(x)
        return self.training_activation_fn(x) if training else self.activation_fn(x)

    def output_moments(
        self, inputs: tf.Tensor, outputs: tf.Tensor | None, frame_mask: tf.Tensor | None
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """Returns the group norm's channel statistics of the convolution of `inputs` (its `outputs`, if computed).

        From the input patches (conv_moments) where the kernel is a whole number of strides, as in every wav2vec 2.0
        config: no pass over the output. Otherwise by reducing `outputs`.
        """
        if has_patch_moments(self.kernel_size, self.stride):
            bias = self.conv.bias if self.use_bias else None
            return patch_conv_moments(inputs, self.conv.kernel, self.stride, bias, frame_mask)
        if outputs is None:
            outputs = self.conv(inputs)
        return self.layer_norm.channel_moments(outputs, frame_mask)

    def get_config(self) -> dict[str, object]:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "use_bias": self.use_bias,
            "norm": self.norm,
            "activation": self.activation,
            "epsilon": self.epsilon,
        }


@register
class FeatureEncoder(ConfigSerializable, keras.layers.Layer):
    """Seven strided conv blocks (base: 320 samples per frame, 400-sample receptive field)."""

    def __init__(self, config: Wav2Vec2Config, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.conv_layers = []
        for index, (filters, kernel, stride) in enumerate(
            zip(config.conv_dim, config.conv_kernel, config.conv_stride, strict=True)
        ):
            if config.feat_extract_norm == "layer":
                norm = "layer"
            else:
                norm = "group" if index == 0 else None
            self.conv_layers.append(
                ConvBlock(
                    filters,
                    kernel,
                    stride,
                    use_bias=config.conv_bias,
                    norm=norm,
                    activation=config.feat_extract_activation,
                    epsilon=config.layer_norm_eps,
                    name=f"conv_layers_{index}",
                )
            )

    def call(
        self, audio: tf.Tensor, sample_lengths: tf.Tensor | None = None, training: bool | None = None
    ) -> tf.Tensor:
        # audio: [batch, samples] → [batch, frames, conv_dim[-1]]
        x = tf.expand_dims(audio, -1)  # not audio[:, :, None]: no TensorFlow Lite builtin for it (int8 export)
        lengths = sample_lengths
        for block in self.conv_layers:
            if lengths is not None:
                lengths = conv_output_length(lengths, block.kernel_size, block.stride)
            x = block(x, output_lengths=lengths, training=training)
        return x

    def features_from(self, audio: tf.Tensor, sample_lengths: tf.Tensor, first_frame: tf.Tensor) -> tf.Tensor:
        """Returns `call(audio, sample_lengths)[:, first_frame:]` without computing the frames before `first_frame`.

        Each frame sees only its receptive field, except where block 0 has a group norm: its per-channel statistics
        span the whole input, so they are taken from block 0's convolution of all of `audio` (a small share of the
        encoder's cost: one input channel) and the later, costly blocks run on the audio of the new frames alone.
        A stream that keeps the frames it has encoded asks each hop for the new ones only.
        """
        # audio: [batch, samples] float32; sample_lengths: [batch] int32; first_frame: scalar int32
        offset = first_frame * self.config.total_stride
        x = tf.expand_dims(audio[:, offset:], -1)
        lengths = tf.maximum(sample_lengths - offset, 0)
        blocks = self.conv_layers
        first_block = blocks[0]
        if first_block.norm == "group":
            whole_audio = tf.expand_dims(audio, -1)
            whole_lengths = conv_output_length(sample_lengths, first_block.kernel_size, first_block.stride)
            whole_frames = conv_output_length(tf.shape(audio)[1], first_block.kernel_size, first_block.stride)
            mask = tf.sequence_mask(whole_lengths, maxlen=whole_frames)
            moments = first_block.output_moments(whole_audio, None, mask)
            x = first_block.activation_fn(first_block.layer_norm.normalize(first_block.conv(x), *moments))
            lengths = conv_output_length(lengths, first_block.kernel_size, first_block.stride)
            blocks = blocks[1:]
        for block in blocks:
            lengths = conv_output_length(lengths, block.kernel_size, block.stride)
            x = block(x, output_lengths=lengths)
        return x
