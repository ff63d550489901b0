"""Decode an uploaded audio file into the model's input: 16 kHz mono float32 samples.

The decoding, validation and resampling are `audio_input.load_audio`, shared with training so served
and trained-on audio match; its `AudioError`s become HTTP responses in `service.api.errors`. What is the
gateway's own is the upload: a zero-byte body is the client's mistake (400), not a bad audio file.
"""

from __future__ import annotations

from typing import BinaryIO

from audio_input import DecodedAudio, load_audio
from service.core.config import MODEL_SAMPLE_RATE_HZ
from service.core.errors import EmptyUploadError

__all__ = ["DecodedAudio", "decode_audio"]


def decode_audio(file: BinaryIO, max_duration_s: float) -> DecodedAudio:
    """Return the upload in `file` as 16 kHz mono float32, or raise the error that says what is wrong with it."""
    file.seek(0, 2)
    if file.tell() == 0:
        raise EmptyUploadError("the uploaded file is empty (0 bytes)")
    file.seek(0)
    return load_audio(file, MODEL_SAMPLE_RATE_HZ, max_duration_s)
