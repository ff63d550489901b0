"""Multi-head self-attention with a key padding mask (HF's Wav2Vec2Attention, encoder-only)."""

from __future__ import annotations

import keras
import tensorflow as tf

from wav2vec2.frame_dense import build_dense, project
from wav2vec2.serialization import register


@register
class SelfAttention(keras.layers.Layer):
    def __init__(self, hidden_size: int, num_heads: int, dropout: float = 0.0, **kwargs: object) -> None:
        super().__init__(**kwargs)
        if hidden_size % num_heads:
            raise ValueError(f"hidden_size={hidden_size} is not divisible by num_heads={num_heads}")
        self.hidden_size = hidden_size
        self.num_heads = num_heads
        self.head_dim = hidden_size // num_heads
        self.dropout = dropout
        self.q_proj = keras.layers.Dense(hidden_size, name="q_proj")
        self.k_proj = keras.layers.Dense(hidden_size, name="k_proj")
        self.v_proj = keras.layers.Dense(hidden_size, name="v_proj")
        self.out_proj = keras.layers.Dense(hidden_size, name="out_proj")
        self.attention_dropout = keras.layers.Dropout(dropout)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        for layer in (self.q_proj, self.k_proj, self.v_proj, self.out_proj):
            build_dense(layer, self.hidden_size)

    def _split_heads(self, x: tf.Tensor, shape: tf.Tensor) -> tf.Tensor:
        # [batch * frames, hidden] → [batch, heads, frames, head_dim]
        x = tf.reshape(x, [shape[0], shape[1], self.num_heads, self.head_dim])
        return tf.transpose(x, [0, 2, 1, 3])

    def call(self, x: tf.Tensor, key_mask: tf.Tensor | None = None, training: bool | None = None) -> tf.Tensor:
        # x: [batch, frames, hidden]; key_mask: [batch, frames] bool, False on padded frames
        shape = tf.shape(x)
        frames = tf.reshape(x, [-1, self.hidden_size])  # the projections as 2-D products (see frame_dense)
        query = self._split_heads(project(self.q_proj, frames) * (self.head_dim**-0.5), shape)
        key = self._split_heads(project(self.k_proj, frames), shape)
        value = self._split_heads(project(self.v_proj, frames), shape)
        scores = tf.cast(tf.matmul(query, key, transpose_b=True), tf.float32)
        if key_mask is not None:
            # float32 min keeps masked keys at exactly zero weight; fully masked rows only occur on padding.
            additive_mask = (1.0 - tf.cast(key_mask, tf.float32)) * tf.float32.min
            # [batch, 1, 1, keys] by expand_dims: `[:, None, None, :]` has no TensorFlow Lite builtin (int8 export).
            scores += tf.expand_dims(tf.expand_dims(additive_mask, 1), 1)
        weights = tf.cast(tf.nn.softmax(scores, axis=-1), x.dtype)
        weights = self.attention_dropout(weights, training=training)
        context = tf.matmul(weights, value)
        context = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [-1, self.hidden_size])
        return tf.reshape(project(self.out_proj, context), shape)

    def get_config(self) -> dict[str, object]:
        return {
            **super().get_config(),
            "hidden_size": self.hidden_size,
            "num_heads": self.num_heads,
            "dropout": self.dropout,
        }
