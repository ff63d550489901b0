"""`wav2vec2.audio.load_audio` as a library: every source kind, any target rate, and its typed errors.

The gateway's tests (tests/service/test_audio_decode.py) cover the formats and the HTTP-facing failures;
these cover what the training and demo-corpus callers rely on.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile

from wav2vec2.audio import load_audio
from wav2vec2.errors import (
    AudioDecodeError,
    AudioError,
    AudioTooLongError,
    EmptyAudioError,
    NonFiniteAudioError,
    TruncatedAudioError,
    UnsupportedAudioFormatError,
    Wav2Vec2Error,
)


def tone(duration_s: float, rate_hz: int, frequency_hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(duration_s * rate_hz)) / rate_hz
    return (0.5 * np.sin(2 * np.pi * frequency_hz * t)).astype(np.float32)


def wav_bytes(samples: np.ndarray, rate_hz: int, subtype: str = "PCM_16") -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate_hz, format="WAV", subtype=subtype)
    return buffer.getvalue()


def test_path_bytes_and_file_object_decode_the_same(tmp_path: Path) -> None:
    data = wav_bytes(tone(0.5, 8_000), 8_000)
    path = tmp_path / "tone.wav"
    path.write_bytes(data)
    from_path = load_audio(path)
    from_str = load_audio(str(path))
    from_bytes = load_audio(data)
    from_file = load_audio(io.BytesIO(data))
    for audio in (from_str, from_bytes, from_file):
        np.testing.assert_array_equal(audio.samples, from_path.samples)
    assert from_path.sample_rate_hz == 16_000 and from_path.source_sample_rate_hz == 8_000
    assert from_path.duration_s == pytest.approx(0.5)


def test_resamples_to_any_target_rate() -> None:
    audio = load_audio(wav_bytes(tone(1.0, 44_100), 44_100, "FLOAT"), sample_rate_hz=8_000)
    assert audio.sample_rate_hz == 8_000 and len(audio.samples) == 8_000
    expected = tone(1.0, 8_000)
    # Away from the filter's edge effects the band-limited resampler keeps the tone.
    assert np.max(np.abs(audio.samples[400:-400] - expected[400:-400])) < 1e-3


def test_sixteen_bit_audio_at_the_target_rate_is_returned_exactly() -> None:
    pcm = (tone(0.25, 16_000) * 32768).astype(np.int16)
    audio = load_audio(wav_bytes(pcm, 16_000))
    np.testing.assert_array_equal(audio.samples, pcm.astype(np.float32) / 32768)


def test_no_duration_limit_unless_asked() -> None:
    data = wav_bytes(np.zeros(3 * 8_000, dtype=np.float32), 8_000)
    assert load_audio(data).duration_s == pytest.approx(3.0)
    with pytest.raises(AudioTooLongError, match="3.0 s long; at most 2 s"):
        load_audio(data, max_duration_s=2.0)


def test_truncated_wav_is_its_own_decode_error() -> None:
    data = wav_bytes(tone(1.0, 16_000), 16_000)
    with pytest.raises(TruncatedAudioError, match="declares 32000 bytes") as raised:
        load_audio(data[: len(data) // 2])
    assert isinstance(raised.value, AudioDecodeError)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"plain text, not audio\n" * 20, UnsupportedAudioFormatError),
        (wav_bytes(np.zeros(0, dtype=np.float32), 16_000), EmptyAudioError),
        (wav_bytes(np.array([0.0, np.nan, 0.1], dtype=np.float32), 16_000, "FLOAT"), NonFiniteAudioError),
    ],
    ids=["not-audio", "empty", "nan"],
)
def test_bad_audio_raises_the_library_error_hierarchy(data: bytes, error: type[AudioError]) -> None:
    with pytest.raises(error) as raised:
        load_audio(data)
    # Callers catch one base (the corpus writer skips the file); generic code sees a ValueError.
    assert all(isinstance(raised.value, base) for base in (AudioError, Wav2Vec2Error, ValueError))


def test_a_missing_path_is_file_not_found_not_bad_audio(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_audio(tmp_path / "absent.wav")
