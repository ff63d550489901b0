"""Corpus sources → sharded TFRecords (`tfrecords`) → batched tf.data input (`pipeline`).

The names below load their module on first use (PEP 562), so `training.data.input_defaults` (read by the CLI's
`TrainConfig`) and `training.data.sources` do not import TensorFlow.
"""

from __future__ import annotations

from wav2vec2.lazy_exports import lazy_exports

# Public name → the module that defines it.
_EXPORTS = {
    "InputConfig": "training.data.pipeline",
    "build_dataset": "training.data.pipeline",
    "make_char_lookup": "training.data.pipeline",
    "Utterance": "training.data.sources",
    "fsdd_utterances": "training.data.fsdd",
    "librispeech_utterances": "training.data.sources",
    "manifest_utterances": "training.data.sources",
    "WriteSummary": "training.data.tfrecords",
    "parse_example": "training.data.tfrecords",
    "write_tfrecords": "training.data.tfrecords",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
