"""The errors the model library raises, so callers can tell a missing checkpoint from a broken one."""


class Wav2Vec2Error(Exception):
    """Base class of this library's errors."""


class CheckpointNotFoundError(Wav2Vec2Error, FileNotFoundError):
    """No checkpoint at that path, and it could not be downloaded from the Hugging Face Hub."""


class CheckpointMismatchError(Wav2Vec2Error, ValueError):
    """A checkpoint's tensors do not fit the model its config.json describes."""


class VocabularyError(Wav2Vec2Error, ValueError):
    """A vocabulary the CTC head cannot have: ids not exactly 0..N-1, or a special token missing."""
