"""Greedy CTC decoding as TF ops: the one implementation used by the processor and the SavedModel graph."""

from __future__ import annotations

import tensorflow as tf


def ctc_greedy_ids(logits: tf.Tensor, frame_lengths: tf.Tensor | None, blank_id: int) -> tf.RaggedTensor:
    """Token ids per utterance: argmax per frame, repeats collapsed, blanks dropped, padded frames ignored."""
    # logits: [batch, frames, vocab]; frame_lengths: [batch] int32
    best = tf.argmax(logits, axis=-1, output_type=tf.int32)
    return collapse_ctc_ids(best, frame_lengths, blank_id)


def collapse_ctc_ids(frame_ids: tf.Tensor, frame_lengths: tf.Tensor | None, blank_id: int) -> tf.RaggedTensor:
    """CTC collapse of per-frame ids: keep a frame if it differs from the previous one and is not blank."""
    # frame_ids: [batch, frames] int32
    frame_ids = tf.convert_to_tensor(frame_ids, tf.int32)
    num_frames = tf.shape(frame_ids)[1]
    if frame_lengths is None:
        frame_lengths = tf.fill(tf.shape(frame_ids)[:1], num_frames)
    valid = tf.sequence_mask(frame_lengths, maxlen=num_frames)
    previous = tf.pad(frame_ids[:, :-1], [[0, 0], [1, 0]], constant_values=-1)
    keep = valid & tf.not_equal(frame_ids, previous) & tf.not_equal(frame_ids, blank_id)
    return tf.ragged.boolean_mask(frame_ids, keep)
