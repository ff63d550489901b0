"""The errors the model library raises, so callers can tell a missing checkpoint from a broken one."""


class Wav2Vec2Error(Exception):
    """Base class of this library's errors."""


class CheckpointNotFoundError(Wav2Vec2Error, FileNotFoundError):
    """No checkpoint at that path, and it could not be downloaded from the Hugging Face Hub."""


class CheckpointMismatchError(Wav2Vec2Error, ValueError):
    """A checkpoint's tensors do not fit the model its config.json describes."""


class VocabularyError(Wav2Vec2Error, ValueError):
    """A vocabulary the CTC head cannot have: ids not exactly 0..N-1, or a special token missing."""


class AudioError(Wav2Vec2Error, ValueError):
    """Audio that cannot become model input; the subclasses say why, so a caller can tell the user."""


class UnsupportedAudioFormatError(AudioError):
    """The bytes match no audio format libsndfile knows (text, images, JSON, ...)."""


class AudioDecodeError(AudioError):
    """A known audio format, but the stream is corrupt."""


class TruncatedAudioError(AudioDecodeError):
    """The header promises more audio than the stream holds."""


class EmptyAudioError(AudioError):
    """A valid header and no samples."""


class NonFiniteAudioError(AudioError):
    """The decoded samples hold NaN or infinity (float WAV/FLAC can carry them)."""


class AudioTooLongError(AudioError):
    """The audio lasts longer than the caller's `max_duration_s`."""
