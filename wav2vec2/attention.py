"""Multi-head self-attention with a key padding mask (HF's Wav2Vec2Attention, encoder-only)."""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from wav2vec2.frame_dense import build_dense, project
from wav2vec2.graph_target import for_tflite
from wav2vec2.serialization import register

# Scores of all heads past this size go head by head. On the 2-core Xeon, base (12 heads), two threads, per layer:
# 500 frames (10 s) 4.6 ms all heads vs 6.3 head by head; 750: 9.0 vs 10.1; 1000: 17.6 vs 16.3; 1500: 50.5 vs 35.2
# (PyTorch's fused SDPA: 29.8). 32 MiB puts the switch at 836 frames for 12 heads.
SCORES_BUDGET_BYTES = 32 * 2**20


def per_head_from_frames(num_heads: int) -> int:
    """The frame count past which attention over `num_heads` heads runs head by head."""
    return math.isqrt(SCORES_BUDGET_BYTES // (4 * num_heads))


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

    def call(self, x: tf.Tensor, key_mask: tf.Tensor | None = None, training: bool | None = None) -> tf.Tensor:
        # x: [batch, frames, hidden]; key_mask: [batch, frames] bool, False on padded frames
        shape = tf.shape(x)
        frames = tf.reshape(x, [-1, self.hidden_size])  # the projections as 2-D products (see frame_dense)
        query = project(self.q_proj, frames) * (self.head_dim**-0.5)
        key, value = project(self.k_proj, frames), project(self.v_proj, frames)
        additive_mask = None
        if key_mask is not None:
            # float32 min keeps masked keys at exactly zero weight; fully masked rows only occur on padding.
            additive_mask = (1.0 - tf.cast(key_mask, tf.float32)) * tf.float32.min  # [batch, keys]
        if training or for_tflite():
            context = self._attend_all_heads(query, key, value, additive_mask, shape, training)
        else:
            context = tf.cond(
                shape[1] > per_head_from_frames(self.num_heads),
                lambda: self._attend_head_by_head(query, key, value, additive_mask, shape),
                lambda: self._attend_all_heads(query, key, value, additive_mask, shape, training),
            )
        return tf.reshape(project(self.out_proj, context), shape)

    def _attend_all_heads(
        self,
        query: tf.Tensor,
        key: tf.Tensor,
        value: tf.Tensor,
        additive_mask: tf.Tensor | None,
        shape: tf.Tensor,
        training: bool | None,
    ) -> tf.Tensor:
        """Returns the context `[batch * frames, hidden]`, every head's scores in one batched product."""
        # query, key, value: [batch * frames, hidden] → [batch, heads, frames, head_dim]
        query, key, value = (
            tf.transpose(tf.reshape(t, [shape[0], shape[1], self.num_heads, self.head_dim]), [0, 2, 1, 3])
            for t in (query, key, value)
        )
        if additive_mask is not None:
            # [batch, 1, 1, keys] by expand_dims: `[:, None, None, :]` has no TensorFlow Lite builtin (int8 export).
            additive_mask = tf.expand_dims(tf.expand_dims(additive_mask, 1), 1)
        context = self._attend(query, key, value, additive_mask, training)
        return tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [-1, self.hidden_size])

    def _attend_head_by_head(
        self, query: tf.Tensor, key: tf.Tensor, value: tf.Tensor, additive_mask: tf.Tensor | None, shape: tf.Tensor
    ) -> tf.Tensor:
        """The same context, one head at a time: each head's `[frames, frames]` scores stay in the CPU's cache."""
        if additive_mask is not None:
            additive_mask = tf.expand_dims(additive_mask, 1)  # [batch, 1, keys]
        contexts = []
        for head in range(self.num_heads):
            columns = slice(head * self.head_dim, (head + 1) * self.head_dim)
            head_query, head_key, head_value = (
                tf.reshape(t[:, columns], [shape[0], shape[1], self.head_dim]) for t in (query, key, value)
            )
            contexts.append(self._attend(head_query, head_key, head_value, additive_mask, training=False))
        return tf.reshape(tf.concat(contexts, axis=-1), [-1, self.hidden_size])

    def _attend(
        self, query: tf.Tensor, key: tf.Tensor, value: tf.Tensor, additive_mask: tf.Tensor | None, training: bool | None
    ) -> tf.Tensor:
        """Returns softmax(query · keyᵀ + mask) · value over the last two axes; the mask broadcasts to the scores."""
        scores = tf.cast(tf.matmul(query, key, transpose_b=True), tf.float32)
        if additive_mask is not None:
            scores += additive_mask
        weights = tf.cast(tf.nn.softmax(scores, axis=-1), query.dtype)
        weights = self.attention_dropout(weights, training=training)
        return tf.matmul(weights, value)

    def get_config(self) -> dict[str, object]:
        return {
            **super().get_config(),
            "hidden_size": self.hidden_size,
            "num_heads": self.num_heads,
            "dropout": self.dropout,
        }
