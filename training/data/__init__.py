"""Corpus sources → sharded TFRecords (`tfrecords`) → batched tf.data input (`pipeline`)."""

from training.data.pipeline import InputConfig, build_dataset, make_char_lookup
from training.data.sources import Utterance, fsdd_utterances, librispeech_utterances, manifest_utterances
from training.data.tfrecords import WriteSummary, parse_example, write_tfrecords

__all__ = [
    "InputConfig",
    "Utterance",
    "WriteSummary",
    "build_dataset",
    "fsdd_utterances",
    "librispeech_utterances",
    "make_char_lookup",
    "manifest_utterances",
    "parse_example",
    "write_tfrecords",
]
