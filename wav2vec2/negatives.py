"""Distractors for the contrastive task: HF's `_sample_negative_indices`, drawn with TF ops inside the step."""

from __future__ import annotations

import tensorflow as tf


def sample_negative_indices(
    mask_time_indices: tf.Tensor, num_negatives: int, seed: tf.Tensor | None = None
) -> tf.Tensor:
    """`[batch, frames, num_negatives]` int32 indices into the flattened `[batch * frames]` quantized frames.

    As HF's `_sample_negative_indices`: for each masked frame, `num_negatives` draws (with replacement) uniform
    over the *other* masked frames of the same utterance, never the frame itself. Unmasked frames get index
    `batch_index * frames` (HF's 0 plus the row offset); the loss ignores them. A row with fewer than two masked
    frames has no other frame to draw: its negatives point at the positive and the loss masks them out.
    """
    # mask_time_indices: [batch, frames] bool
    mask = tf.cast(mask_time_indices, tf.bool)
    batch, frames = tf.shape(mask)[0], tf.shape(mask)[1]
    num_masked = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)  # [batch]
    # rank of each masked frame among its row's masked frames; the masked frames' positions in order
    rank = tf.cumsum(tf.cast(mask, tf.int32), axis=1) - 1
    positions = tf.argsort(tf.where(mask, tf.range(frames)[None, :], frames), axis=1, stable=True)
    shape = [batch, frames, num_negatives]
    uniform = tf.random.uniform(shape) if seed is None else tf.random.stateless_uniform(shape, seed=seed)
    # randint(0, n - 1), then shift draws at or above the positive's rank by one: uniform over the others.
    others = tf.cast(tf.maximum(num_masked - 1, 0), tf.float32)[:, None, None]
    drawn = tf.minimum(tf.cast(tf.floor(uniform * others), tf.int32), tf.cast(others, tf.int32) - 1)
    drawn = tf.maximum(drawn, 0)
    drawn = tf.where(drawn >= rank[:, :, None], drawn + 1, drawn)
    drawn = tf.minimum(drawn, tf.maximum(num_masked - 1, 0)[:, None, None])
    negatives = tf.gather(positions, tf.reshape(drawn, [batch, -1]), batch_dims=1)
    negatives = tf.reshape(negatives, shape)
    negatives = tf.where(mask[:, :, None], negatives, 0)
    return negatives + (tf.range(batch) * frames)[:, None, None]
