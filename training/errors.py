"""Error types raised by the training package; the CLI maps them to exit codes in one place."""

from __future__ import annotations


class TrainingError(Exception):
    """Base class of every error the training package raises on purpose."""


class DataError(TrainingError):
    """Input data is missing, malformed or does not match what the pipeline expects."""


class AudioReadError(DataError):
    """An audio file could not be decoded (corrupt, unsupported format, empty)."""


class ManifestError(DataError):
    """A manifest line or a corpus folder does not follow the documented layout."""


class ConfigError(TrainingError):
    """A training option has a value outside its allowed set."""
