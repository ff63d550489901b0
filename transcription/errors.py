"""Errors of the transcription path that a caller can cause (and a client can be told about)."""

from __future__ import annotations


class TranscriptionError(Exception):
    """Base of the errors `transcription` raises for a request it cannot serve."""


class UnknownDecoderError(TranscriptionError):
    """The request asked for a decoder that is not one of the configured ones."""
