"""Greedy CTC decoding as TF ops: the one implementation used by the processor and the SavedModel graph."""

from __future__ import annotations

from typing import NamedTuple

import tensorflow as tf


class GreedyCTC(NamedTuple):
    """Collapsed token ids and, for each, the frame where it starts (for timestamps: frame × stride / rate)."""

    token_ids: tf.RaggedTensor  # [batch, (tokens)] int32
    token_frames: tf.RaggedTensor  # [batch, (tokens)] int32


def ctc_greedy_ids(logits: tf.Tensor, frame_lengths: tf.Tensor | None, blank_id: int) -> tf.RaggedTensor:
    """Token ids per utterance: argmax per frame, repeats collapsed, blanks dropped, padded frames ignored."""
    return ctc_greedy_decode(logits, frame_lengths, blank_id).token_ids


def ctc_greedy_decode(logits: tf.Tensor, frame_lengths: tf.Tensor | None, blank_id: int) -> GreedyCTC:
    """`ctc_greedy_ids` with the start frame of every token."""
    # logits: [batch, frames, vocab]; frame_lengths: [batch] int32
    best = tf.argmax(logits, axis=-1, output_type=tf.int32)
    return collapse_ctc(best, frame_lengths, blank_id)


def collapse_ctc_ids(frame_ids: tf.Tensor, frame_lengths: tf.Tensor | None, blank_id: int) -> tf.RaggedTensor:
    """CTC collapse of per-frame ids: keep a frame if it differs from the previous one and is not blank."""
    return collapse_ctc(frame_ids, frame_lengths, blank_id).token_ids


def collapse_ctc(frame_ids: tf.Tensor, frame_lengths: tf.Tensor | None, blank_id: int) -> GreedyCTC:
    """The CTC collapse with the frame index each kept token starts at."""
    # frame_ids: [batch, frames] int32
    frame_ids = tf.convert_to_tensor(frame_ids, tf.int32)
    batch, num_frames = tf.shape(frame_ids)[0], tf.shape(frame_ids)[1]
    if frame_lengths is None:
        frame_lengths = tf.fill([batch], num_frames)
    valid = tf.sequence_mask(frame_lengths, maxlen=num_frames)
    previous = tf.pad(frame_ids[:, :-1], [[0, 0], [1, 0]], constant_values=-1)
    keep = valid & tf.not_equal(frame_ids, previous) & tf.not_equal(frame_ids, blank_id)
    frame_index = tf.broadcast_to(tf.range(num_frames)[None, :], [batch, num_frames])
    return GreedyCTC(tf.ragged.boolean_mask(frame_ids, keep), tf.ragged.boolean_mask(frame_index, keep))
