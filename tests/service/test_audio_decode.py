"""`service.api.uploads.decode_audio`: every supported format to 16 kHz mono, every bad file to a typed error."""

from __future__ import annotations

import io

import numpy as np
import pytest

from audio_input import (
    AudioDecodeError,
    AudioTooLongError,
    EmptyAudioError,
    NonFiniteAudioError,
    UnsupportedAudioFormatError,
)
from service.api.uploads import decode_audio
from service.errors import EmptyUploadError
from tests.service.gateway_fixtures import encode, speechlike


def decode(data: bytes, max_duration_s: float = 30.0):
    return decode_audio(io.BytesIO(data), max_duration_s)


@pytest.mark.parametrize(
    ("format", "subtype", "rate_hz", "channels"),
    [
        ("WAV", "PCM_16", 16_000, 1),
        ("WAV", "PCM_24", 8_000, 2),
        ("WAV", "FLOAT", 44_100, 1),
        ("FLAC", "PCM_16", 22_050, 2),
        ("OGG", "VORBIS", 32_000, 1),
        ("OGG", "OPUS", 48_000, 2),
        ("MP3", "MPEG_LAYER_III", 44_100, 1),
    ],
)
def test_every_format_rate_and_channel_count_becomes_16k_mono(format, subtype, rate_hz, channels):
    audio = decode(encode(speechlike(1.5, rate_hz, channels), rate_hz, format, subtype))
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    assert audio.source_sample_rate_hz == rate_hz and audio.source_channels == channels
    # Lossy codecs pad a few ms at the ends; the duration must still be the clip's.
    assert audio.duration_s == pytest.approx(1.5, abs=0.06)


def test_resampling_keeps_the_signal():
    tone_hz = 440.0
    rate_hz = 44_100
    t = np.arange(rate_hz) / rate_hz
    audio = decode(encode((0.5 * np.sin(2 * np.pi * tone_hz * t)).astype(np.float32), rate_hz, "WAV", "FLOAT"))
    t16 = np.arange(len(audio.samples)) / 16_000
    expected = 0.5 * np.sin(2 * np.pi * tone_hz * t16)
    # Away from the filter's edge effects the band-limited resampler reproduces the tone closely.
    assert np.max(np.abs(audio.samples[800:-800] - expected[800:-800])) < 1e-3


def test_stereo_is_averaged_to_mono():
    left = speechlike(1.0, 16_000, seed=1)
    right = speechlike(1.0, 16_000, seed=2)
    audio = decode(encode(np.stack([left, right], axis=1), 16_000, "WAV", "FLOAT"))
    np.testing.assert_allclose(audio.samples, (left + right) / 2, atol=1e-6)


def test_empty_upload():
    with pytest.raises(EmptyUploadError):
        decode(b"")


@pytest.mark.parametrize(
    "data",
    [b"this is plain text, not audio\n" * 20, b"\x89PNG\r\n\x1a\n" + bytes(200), b'{"audio": [0.1, 0.2]}'],
    ids=["text", "png", "json"],
)
def test_non_audio_is_unsupported_media(data):
    with pytest.raises(UnsupportedAudioFormatError):
        decode(data)


@pytest.mark.parametrize(
    ("format", "subtype"), [("WAV", "PCM_16"), ("FLAC", "PCM_16"), ("OGG", "VORBIS"), ("MP3", "MPEG_LAYER_III")]
)
def test_truncated_file_is_refused(format, subtype):
    data = encode(speechlike(2.0, 16_000), 16_000, format, subtype)
    # Ogg has no length in its header: cut before its first audio page it reads as empty (also a 422).
    with pytest.raises((AudioDecodeError, EmptyAudioError)):
        decode(data[: len(data) // 2])


def test_header_without_samples_is_empty_audio():
    with pytest.raises(EmptyAudioError):
        decode(encode(np.zeros(0, dtype=np.float32), 16_000))


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_nan_or_infinite_samples_are_refused(bad_value):
    samples = speechlike(0.5, 16_000)
    samples[100] = bad_value
    with pytest.raises(NonFiniteAudioError):
        decode(encode(samples, 16_000, "WAV", "FLOAT"))


def test_too_long_audio_is_refused_from_its_header():
    with pytest.raises(AudioTooLongError, match="at most 2 s"):
        decode(encode(np.zeros(3 * 8_000, dtype=np.float32), 8_000), max_duration_s=2.0)
