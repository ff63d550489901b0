"""How a training split is read unless a run says otherwise: one set of values for `InputConfig` (the tf.data
pipeline's options) and `TrainConfig` (a run's, which the CLI fills). No TensorFlow here: `TrainConfig` loads
with the CLI's help."""

from __future__ import annotations

# Longer utterances are dropped from training: 16 s covers LibriSpeech's training utterances (up to ~35 s are
# rare) while bounding the attention's memory per batch.
MAX_DURATION_S = 16.0
# Upper bounds (exclusive) of the length buckets, below MAX_DURATION_S; a batch pads to its bucket's utterances.
BUCKET_BOUNDARIES_S = (2.0, 4.0, 6.0, 8.0, 11.0, 14.0)
# Utterances in the shuffle buffer; a run on one device keeps the buffer in its checkpoints, so keep it moderate.
SHUFFLE_BUFFER = 500
# Label tokens a fixed-shape (TPU) batch pads to; longer transcripts are dropped from training.
MAX_LABEL_LENGTH = 400
