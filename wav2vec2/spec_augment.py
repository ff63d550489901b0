"""SpecAugment masks for wav2vec 2.0 fine-tuning, drawn with TF ops so that every step draws new ones."""

from __future__ import annotations

import tensorflow as tf


def compute_span_mask(
    lengths: tf.Tensor,
    max_length: tf.Tensor | int,
    mask_prob: float,
    mask_length: int,
    min_masks: int = 0,
    seed: tf.Tensor | None = None,
) -> tf.Tensor:
    """`[batch, max_length]` bool: random spans of `mask_length` steps covering about `mask_prob` of each row.

    As HF's `_compute_mask_indices`: per row, num_spans = floor(mask_prob * length / mask_length + u),
    u ~ U(0, 1), at least `min_masks`, at most what fits; span starts are uniform over the valid range and
    spans may overlap (so the masked fraction is a little below mask_prob). Spans stay inside `lengths`.
    """
    # lengths: [batch] int32
    lengths = tf.cast(lengths, tf.int32)
    batch = tf.shape(lengths)[0]
    float_lengths = tf.cast(lengths, tf.float32)
    if seed is None:
        jitter = tf.random.uniform([batch])
    else:
        jitter = tf.random.stateless_uniform([batch], seed=seed)
    num_spans = tf.cast(tf.floor(mask_prob * float_lengths / mask_length + jitter), tf.int32)
    num_spans = tf.maximum(num_spans, min_masks)
    num_spans = tf.minimum(num_spans, lengths // mask_length)
    # Sized for the most spans that fit, not for this batch's draw: XLA (TPU, `--jit`) needs a span count it
    # can compute from shapes alone.
    max_spans = tf.maximum(max_length // mask_length, 1)
    start_range = tf.maximum(lengths - mask_length + 1, 1)
    if seed is None:
        uniform = tf.random.uniform([batch, max_spans])
    else:
        uniform = tf.random.stateless_uniform([batch, max_spans], seed=seed + 1)
    starts = tf.cast(tf.floor(uniform * tf.cast(start_range, tf.float32)[:, None]), tf.int32)
    span_in_use = tf.range(max_spans)[None, :] < num_spans[:, None]
    steps = tf.range(max_length)[None, None, :]
    starts = starts[:, :, None]
    covered = (steps >= starts) & (steps < starts + mask_length) & span_in_use[:, :, None]
    return tf.reduce_any(covered, axis=1)
