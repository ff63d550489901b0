"""Reads one audio file as 16 kHz mono 16-bit PCM, the only sample format our TFRecords hold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile
import soxr

from training.errors import AudioReadError

TARGET_SAMPLE_RATE_HZ = 16_000


def float_to_pcm16(audio: np.ndarray) -> np.ndarray:
    """Returns float audio in [-1, 1) as int16, clipping rather than wrapping values outside the range.

    The scale is 32768, libsndfile's own, so 16-bit sources survive decode → encode bit for bit.
    """
    return np.clip(np.round(audio * 32768.0), -32768, 32767).astype(np.int16)


def load_pcm16(path: str | Path) -> np.ndarray:
    """Returns the file's audio as int16 `[samples]` at 16 kHz, mixed down to mono and resampled if needed.

    Raises AudioReadError for anything soundfile cannot decode or an empty file, so a corpus writer can skip
    and report the file instead of stopping a multi-hour preparation run.
    """
    try:
        audio, sample_rate_hz = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as error:
        raise AudioReadError(f"cannot decode {path}: {error}") from error
    if audio.shape[0] == 0:
        raise AudioReadError(f"{path} holds no samples")
    mono = audio.mean(axis=1)
    if sample_rate_hz != TARGET_SAMPLE_RATE_HZ:
        # soxr's "HQ" preset: the same quality the service uses for uploads, so train and serve audio match.
        mono = soxr.resample(mono, sample_rate_hz, TARGET_SAMPLE_RATE_HZ, quality="HQ")
    return float_to_pcm16(mono)
