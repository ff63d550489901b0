"""Wyoming audio: a chunk's declared format, checked, and its PCM converted to the model's 16 kHz mono float32.

The format takes the same rates and channel counts as the WebSocket stream's config (`StreamConfig`, their one
home); widths are those `audioop` converts. A rate of 1 Hz would make the resampler expand a 32 KB chunk
16000-fold, so the format is checked before a byte is converted.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError
from wyoming.audio import AudioChunk, AudioChunkConverter
from wyoming.event import Event

from service.api.errors import validation_message
from service.errors import InvalidStreamMessageError
from service.streaming import PcmConverter
from service.streaming.protocol import StreamConfig

_STREAM_FIELDS = StreamConfig.model_fields


class InvalidAudioFormatError(InvalidStreamMessageError):
    """An `audio-start` or `audio-chunk` declares a rate, width or channel count we do not take, or a payload that
    is not whole frames."""

    code = "invalid_audio_format"


class AudioFormat(BaseModel):
    """What an `audio-start` or `audio-chunk` says its PCM holds."""

    model_config = ConfigDict(strict=True, frozen=True)

    rate: Annotated[int, *_STREAM_FIELDS["sample_rate_hz"].metadata]
    width: Literal[1, 2, 3, 4]  # bytes per sample: unsigned 8-bit, or signed 16/24/32-bit little-endian
    channels: Annotated[int, *_STREAM_FIELDS["channels"].metadata]

    @classmethod
    def of(cls, event: Event) -> AudioFormat:
        """Return the event's format, or raise `InvalidAudioFormatError` naming what is wrong."""
        fields = {key: event.data[key] for key in ("rate", "width", "channels") if key in event.data}
        try:
            return cls.model_validate(fields)
        except ValidationError as error:
            raise InvalidAudioFormatError(f"{event.type}: {validation_message(error.errors())}") from None

    @property
    def frame_bytes(self) -> int:
        return self.width * self.channels

    def seconds(self, num_bytes: int) -> float:
        """Return the duration of `num_bytes` of PCM in this format."""
        return num_bytes / self.frame_bytes / self.rate

    def check_whole_frames(self, num_bytes: int) -> None:
        """Raise `InvalidAudioFormatError` unless `num_bytes` is a whole number of frames."""
        if num_bytes % self.frame_bytes:
            raise InvalidAudioFormatError(
                f"audio-chunk: a payload of {num_bytes} bytes is not a whole number of {self.channels}-channel "
                f"{self.width}-byte frames"
            )


class ChunkConverter:
    """Converts one transcription's chunks; the resampler's state spans them, and restarts if the rate changes.

    Blocking (audioop and soxr): the handler runs it in a thread, one chunk at a time.
    """

    def __init__(self) -> None:
        self._to_s16_mono = AudioChunkConverter(width=2, channels=1)
        self._pcm: PcmConverter | None = None

    def convert(self, audio_format: AudioFormat, audio: bytes) -> np.ndarray:
        """Return the chunk's audio as 16 kHz mono float32 (what the resampler can already give out)."""
        chunk = AudioChunk(
            rate=audio_format.rate, width=audio_format.width, channels=audio_format.channels, audio=audio
        )
        s16_mono = self._to_s16_mono.convert(chunk).audio
        if self._pcm is not None and self._pcm.sample_rate_hz == audio_format.rate:
            return self._pcm.convert(s16_mono)
        tail = self.flush()
        self._pcm = PcmConverter("pcm_s16le", audio_format.rate, 1)
        return np.concatenate([tail, self._pcm.convert(s16_mono)])

    def flush(self) -> np.ndarray:
        """Return what the resampler still holds (at the end of the audio, or before a change of rate)."""
        return self._pcm.flush() if self._pcm is not None else np.zeros(0, np.float32)
