"""The errors `load_audio` raises, one class per way a file can be wrong, so each door can tell its user why.

`service.api.errors` maps them to HTTP statuses and WebSocket close codes; the corpus writer
(`training.data.audio`) skips the file and reports it.
"""


class AudioError(ValueError):
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
