"""Attention over long inputs runs head by head in TensorFlow graphs, and gives what all heads at once give."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from wav2vec2.attention import SelfAttention, per_head_from_frames
from wav2vec2.graph_target import tflite_builtins


def test_head_by_head_attention_equals_all_heads_at_once_with_padding() -> None:
    keras.utils.set_random_seed(0)
    attention = SelfAttention(hidden_size=32, num_heads=8)
    frames = per_head_from_frames(8) + 7  # past the switch: the TensorFlow graph takes the per-head branch
    x = tf.random.stateless_normal([2, frames, 32], seed=[1, 2])
    key_mask = tf.sequence_mask([frames, frames - 300], maxlen=frames)
    head_by_head = tf.function(lambda x: attention(x, key_mask=key_mask))(x)
    with tflite_builtins():  # no control flow: every head in one batched product
        all_heads = tf.function(lambda x: attention(x, key_mask=key_mask))(x)
    np.testing.assert_allclose(head_by_head.numpy(), all_heads.numpy(), rtol=1e-5, atol=1e-5)
    # Padded keys get no weight: the valid frames of row 1 equal the unpadded utterance alone.
    alone = attention(x[1:, : frames - 300])
    np.testing.assert_allclose(head_by_head[1, : frames - 300].numpy(), alone[0].numpy(), rtol=1e-4, atol=1e-5)


def test_a_graph_traced_for_tensorflow_lite_has_no_control_flow() -> None:
    attention = SelfAttention(hidden_size=32, num_heads=8)
    spec = tf.TensorSpec([None, None, 32], tf.float32)
    traced = tf.function(lambda x: attention(x), input_signature=[spec])
    attention(tf.zeros([1, 4, 32]))
    with tflite_builtins():
        portable = traced.get_concrete_function()
    default = tf.function(lambda x: attention(x), input_signature=[spec]).get_concrete_function()
    assert not {op.type for op in portable.graph.get_operations()} & {"If", "StatelessIf"}
    assert {op.type for op in default.graph.get_operations()} & {"If", "StatelessIf"}
