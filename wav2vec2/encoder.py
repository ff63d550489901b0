"""Transformer encoder in both of wav2vec 2.0's forms: post-LN (base) and stable pre-LN (large-lv60)."""

from __future__ import annotations

import keras
import tensorflow as tf

from wav2vec2.activations import get_activation
from wav2vec2.attention import SelfAttention
from wav2vec2.config import Wav2Vec2Config
from wav2vec2.frame_dense import build_dense, project
from wav2vec2.positional_conv import PositionalConvEmbedding
from wav2vec2.serialization import ConfigSerializable, register


@register
class FeedForward(ConfigSerializable, keras.layers.Layer):
    def __init__(self, config: Wav2Vec2Config, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.intermediate_dense = keras.layers.Dense(config.intermediate_size, name="intermediate_dense")
        self.activation_fn = get_activation(config.hidden_act)
        self.training_activation_fn = get_activation(config.hidden_act, training=True)
        self.intermediate_dropout = keras.layers.Dropout(config.activation_dropout)
        self.output_dense = keras.layers.Dense(config.hidden_size, name="output_dense")
        self.output_dropout = keras.layers.Dropout(config.hidden_dropout)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        build_dense(self.intermediate_dense, self.config.hidden_size)
        build_dense(self.output_dense, self.config.intermediate_size)

    def call(self, x: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        # x: [batch, frames, hidden]; the projections run on [batch * frames, ...] (see frame_dense).
        shape = tf.shape(x)
        frames = tf.reshape(x, [-1, self.config.hidden_size])
        hidden = project(self.intermediate_dense, frames)
        hidden = self.training_activation_fn(hidden) if training else self.activation_fn(hidden)
        hidden = self.intermediate_dropout(hidden, training=training)
        out = self.output_dropout(project(self.output_dense, hidden), training=training)
        return tf.reshape(out, shape)


@register
class EncoderLayer(ConfigSerializable, keras.layers.Layer):
    """One transformer block; `pre_norm` picks the stable layer-norm order of the large-lv60 models."""

    def __init__(self, config: Wav2Vec2Config, pre_norm: bool, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.pre_norm = pre_norm
        eps = config.layer_norm_eps
        self.attention = SelfAttention(
            config.hidden_size, config.num_attention_heads, config.attention_dropout, name="attention"
        )
        self.dropout = keras.layers.Dropout(config.hidden_dropout)
        self.layer_norm = keras.layers.LayerNormalization(epsilon=eps, name="layer_norm")
        self.feed_forward = FeedForward(config, name="feed_forward")
        self.final_layer_norm = keras.layers.LayerNormalization(epsilon=eps, name="final_layer_norm")

    def call(self, x: tf.Tensor, key_mask: tf.Tensor | None = None, training: bool | None = None) -> tf.Tensor:
        if self.pre_norm:
            attended = self.attention(self.layer_norm(x), key_mask=key_mask, training=training)
            x = x + self.dropout(attended, training=training)
            return x + self.feed_forward(self.final_layer_norm(x), training=training)
        attended = self.attention(x, key_mask=key_mask, training=training)
        x = self.layer_norm(x + self.dropout(attended, training=training))
        return self.final_layer_norm(x + self.feed_forward(x, training=training))

    def get_config(self) -> dict[str, object]:
        return {**super().get_config(), "pre_norm": self.pre_norm}


@register
class Encoder(ConfigSerializable, keras.layers.Layer):
    """Positional conv residual, then the transformer blocks (with LayerDrop in training)."""

    def __init__(self, config: Wav2Vec2Config, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.stable_layer_norm = config.do_stable_layer_norm
        self.layerdrop = config.layerdrop
        self.pos_conv_embed = PositionalConvEmbedding(
            config.hidden_size,
            config.num_conv_pos_embeddings,
            config.num_conv_pos_embedding_groups,
            activation=config.feat_extract_activation,
            name="pos_conv_embed",
        )
        self.layer_norm = keras.layers.LayerNormalization(epsilon=config.layer_norm_eps, name="layer_norm")
        self.dropout = keras.layers.Dropout(config.hidden_dropout)
        self.layers = [
            EncoderLayer(config, pre_norm=config.do_stable_layer_norm, name=f"layers_{index}")
            for index in range(config.num_hidden_layers)
        ]

    def call(self, x: tf.Tensor, frame_mask: tf.Tensor | None = None, training: bool | None = None) -> tf.Tensor:
        # x: [batch, frames, hidden]; frame_mask: [batch, frames] bool
        if frame_mask is not None:
            # Padded frames must not leak into valid ones through the 128-wide positional conv.
            x = x * tf.expand_dims(tf.cast(frame_mask, x.dtype), -1)
        x = x + self.pos_conv_embed(x)
        if not self.stable_layer_norm:
            x = self.layer_norm(x)
        x = self.dropout(x, training=training)
        for layer in self.layers:
            output = layer(x, key_mask=frame_mask, training=training)
            if training and self.layerdrop > 0.0:
                # LayerDrop (Fan et al. 2019): skip the whole block with probability `layerdrop`. A select
                # rather than a branch keeps one graph; it saves no compute, but it trains the same function.
                keep = tf.random.uniform([]) >= self.layerdrop
                output = tf.where(keep, output, x)
            x = output
        if self.stable_layer_norm:
            x = self.layer_norm(x)
        return x
