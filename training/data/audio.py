"""Reads one audio file as 16 kHz mono 16-bit PCM, the only sample format our TFRecords hold."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from audio_input import AudioError, load_audio
from training.errors import AudioReadError
from wav2vec2 import SAMPLE_RATE_HZ


def float_to_pcm16(audio: np.ndarray) -> np.ndarray:
    """Returns float audio in [-1, 1) as int16, clipping rather than wrapping values outside the range.

    The scale is 32768, libsndfile's own, so 16-bit sources survive decode → encode bit for bit.
    """
    return np.clip(np.round(audio * 32768.0), -32768, 32767).astype(np.int16)


def load_pcm16(path: str | Path) -> np.ndarray:
    """Returns the file's audio as int16 `[samples]` at 16 kHz, mixed down to mono and resampled if needed.

    Decoding is `audio_input.load_audio`, the gateway's own, so train and serve audio match. Raises
    AudioReadError for a missing, undecodable, truncated, empty or NaN-holding file, so a corpus writer can
    skip and report the file instead of stopping a multi-hour preparation run.
    """
    try:
        audio = load_audio(path, SAMPLE_RATE_HZ)
    except (AudioError, OSError) as error:
        raise AudioReadError(f"cannot read {path}: {error}") from error
    return float_to_pcm16(audio.samples)
