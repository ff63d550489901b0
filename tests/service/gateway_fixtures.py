"""Audio files for the gateway tests, written by libsndfile in every format the gateway accepts."""

from __future__ import annotations

import io

import numpy as np
import soundfile


def speechlike(duration_s: float, sample_rate_hz: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    """Returns `[samples]` (or `[samples, channels]`) float32: harmonics under a syllable-rate envelope."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration_s * sample_rate_hz)) / sample_rate_hz
    pitch_hz = rng.uniform(100, 250)
    tone = sum(np.sin(2 * np.pi * pitch_hz * k * t + rng.uniform(0, 6)) / k for k in range(1, 6))
    envelope = 0.5 * (1 + np.sin(2 * np.pi * rng.uniform(2, 6) * t))
    mono = (0.2 * tone * envelope + 0.01 * rng.standard_normal(len(t))).astype(np.float32)
    if channels == 1:
        return mono
    return np.stack([mono * (1 - 0.1 * c) for c in range(channels)], axis=1)


def encode(samples: np.ndarray, sample_rate_hz: int, format: str = "WAV", subtype: str | None = None) -> bytes:
    """Returns `samples` written by libsndfile as a file in `format`/`subtype`."""
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, sample_rate_hz, format=format, subtype=subtype)
    return buffer.getvalue()


def upload(data: bytes, filename: str = "audio.wav") -> dict:
    """Returns the `files=` argument of an httpx POST with `data` as the multipart field `file`."""
    return {"file": (filename, data, "application/octet-stream")}
