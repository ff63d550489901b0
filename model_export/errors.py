"""Error types of the export package.

Bad *requests* at serving time cannot raise Python exceptions (there is no Python in TF Serving): the graph
raises `tf.errors.InvalidArgumentError` with a message that names the offending input; those messages are
collected here as constants so the tests and the README quote the same text.
"""

from __future__ import annotations


class ExportError(Exception):
    """The model could not be exported (bad source checkpoint, unwritable target, existing version)."""


class ModelConfigError(Exception):
    """TF Serving's model config file (`--model_config_file`) cannot be read or lists no model to serve."""


class VerificationError(ExportError):
    """The reloaded SavedModel does not agree with the Python model it was exported from."""


# Prefixes of the InvalidArgument messages raised inside the serving graph.
MSG_EMPTY_BATCH = "empty batch: `audio`/`wav` must hold at least one utterance"
MSG_LENGTH_BATCH_MISMATCH = "`audio_length` must have one entry per row of `audio`"
MSG_NEGATIVE_LENGTH = "`audio_length` must be >= 0"
MSG_LENGTH_TOO_LONG = "`audio_length` must be <= the number of samples per row of `audio`"
MSG_NOT_FINITE = "`audio` holds NaN or Inf"
MSG_NOT_WAV = "`wav` is not a RIFF/WAVE file (16-bit PCM WAV expected)"
MSG_UNSUPPORTED_RATE = "unsupported WAV sample rate"


class ThreadSettingsError(Exception):
    """TensorFlow's runtime already started with other thread-pool sizes than the ones asked for."""
