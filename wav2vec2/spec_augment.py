"""Span masks with Hugging Face's `_compute_mask_indices` semantics, drawn with TF ops so every step draws anew.

The same masks serve SpecAugment in fine-tuning and the masked frames of pretraining.
"""

from __future__ import annotations

import tensorflow as tf


def _uniform(shape: list, seed: tf.Tensor | None, offset: int) -> tf.Tensor:
    if seed is None:
        return tf.random.uniform(shape)
    return tf.random.stateless_uniform(shape, seed=seed + offset)


def compute_span_mask(
    lengths: tf.Tensor,
    max_length: tf.Tensor | int,
    mask_prob: float,
    mask_length: int,
    min_masks: int = 0,
    seed: tf.Tensor | None = None,
    min_masks_max_fraction: float | None = None,
) -> tf.Tensor:
    """`[batch, max_length]` bool: random spans of `mask_length` steps covering about `mask_prob` of each row.

    As HF's `_compute_mask_indices`: per row, num_spans = floor(mask_prob * length / mask_length + ε) with one
    ε ~ U(0, 1) per call, at least `min_masks`, at most `max_length // mask_length` and at most the number of
    start positions; starts are distinct (drawn without replacement) and uniform over the row's valid range,
    so spans never reach into the padding but may overlap (the masked fraction is a little below mask_prob).
    Unlike HF, a row too short for one span gets no mask at all (HF then masks the batch's last, padded frame).
    `min_masks_max_fraction` (None: HF's rule) lets `min_masks` raise a row's span count only while its spans
    cover at most that fraction of the row, so short rows are not mostly masked.
    """
    # lengths: [batch] int32
    lengths = tf.cast(lengths, tf.int32)
    max_length = tf.cast(max_length, tf.int32)
    batch = tf.shape(lengths)[0]
    epsilon = _uniform([], seed, 0)
    num_spans = tf.cast(tf.floor(mask_prob * tf.cast(lengths, tf.float32) / mask_length + epsilon), tf.int32)
    guaranteed_spans = tf.fill(tf.shape(lengths), min_masks)
    if min_masks_max_fraction is not None:
        affordable = tf.cast(tf.floor(min_masks_max_fraction * tf.cast(lengths, tf.float32) / mask_length), tf.int32)
        guaranteed_spans = tf.minimum(guaranteed_spans, affordable)
    num_spans = tf.maximum(num_spans, guaranteed_spans)
    num_spans = tf.where(num_spans * mask_length > max_length, max_length // mask_length, num_spans)
    num_starts = tf.maximum(lengths - mask_length + 1, 0)
    num_spans = tf.minimum(num_spans, num_starts)
    # Sized for the most spans that fit, not for this batch's draw: XLA (TPU, `--jit`) needs a span count it
    # can compute from shapes alone.
    max_spans = tf.minimum(tf.maximum(max_length // mask_length, 1), max_length)
    # Distinct uniform starts: the positions of the largest random scores among the valid start positions.
    scores = _uniform([batch, max_length], seed, 1)
    scores = tf.where(tf.range(max_length)[None, :] < num_starts[:, None], scores, -1.0)
    _, starts = tf.math.top_k(scores, k=max_spans)
    span_in_use = tf.range(max_spans)[None, :] < num_spans[:, None]
    steps = tf.range(max_length)[None, None, :]
    starts = starts[:, :, None]
    covered = (steps >= starts) & (steps < starts + mask_length) & span_in_use[:, :, None]
    return tf.reduce_any(covered, axis=1)
