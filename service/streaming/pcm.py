"""Raw PCM frames of a stream (any size, any rate, any channel count) to the model's 16 kHz mono float32."""

from __future__ import annotations

from typing import Literal

import numpy as np
import soxr

Encoding = Literal["pcm_s16le", "f32le"]

_DTYPE_BY_ENCODING: dict[str, np.dtype] = {"pcm_s16le": np.dtype("<i2"), "f32le": np.dtype("<f4")}


class PcmConverter:
    """Converts successive byte frames; a frame may end mid-sample, the rest is kept for the next one."""

    def __init__(self, encoding: Encoding, sample_rate_hz: int, channels: int, target_rate_hz: int = 16_000) -> None:
        if encoding not in _DTYPE_BY_ENCODING:
            raise ValueError(f"unknown encoding {encoding!r}; expected one of {sorted(_DTYPE_BY_ENCODING)}")
        self.dtype = _DTYPE_BY_ENCODING[encoding]
        self.channels = channels
        self.sample_rate_hz = sample_rate_hz
        self._frame_bytes = self.dtype.itemsize * channels
        self._carry = b""
        # Stateful resampling: chunk boundaries leave no clicks, and the output equals resampling the whole.
        self._resampler = (
            soxr.ResampleStream(sample_rate_hz, target_rate_hz, 1, dtype="float32")
            if sample_rate_hz != target_rate_hz
            else None
        )

    def convert(self, data: bytes) -> np.ndarray:
        """Return the samples in `data` (plus any carried bytes) as mono float32 at the target rate."""
        data = self._carry + data
        usable = len(data) - len(data) % self._frame_bytes
        self._carry = data[usable:]
        samples = np.frombuffer(data[:usable], dtype=self.dtype).reshape(-1, self.channels)
        mono = samples.astype(np.float32).mean(axis=1)
        if self.dtype.kind == "i":
            mono /= 32768.0
        if not np.all(np.isfinite(mono)):
            raise ValueError("the audio frame holds NaN or infinite samples")
        if self._resampler is None:
            return mono
        return self._resampler.resample_chunk(mono, last=False)

    def flush(self) -> np.ndarray:
        """Return what the resampler still holds (call once, at end of audio)."""
        if self._resampler is None:
            return np.zeros(0, np.float32)
        return self._resampler.resample_chunk(np.zeros(0, np.float32), last=True)

    def seconds(self, num_bytes: int) -> float:
        """Return the duration of `num_bytes` of this stream's input audio."""
        return num_bytes / self._frame_bytes / self.sample_rate_hz
