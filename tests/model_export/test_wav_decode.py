"""WAV bytes -> 16 kHz mono in the graph: downmix, resampling, padding, and clear errors for bad files."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
import soundfile as sf
import tensorflow as tf

from model_export.errors import MSG_EMPTY_BATCH, MSG_NOT_WAV
from model_export.resample import output_length, resample_to_16k
from model_export.wav_decode import decode_wav_batch


def test_stereo_is_downmixed_to_the_channel_mean(speech: list[np.ndarray], to_wav) -> None:
    left, right = speech[0], 0.3 * speech[0][::-1]
    data = to_wav(np.stack([left, right], axis=1), 8000)
    stored = sf.read(io.BytesIO(data), dtype="float32")[0]  # what the file holds after 16-bit rounding
    audio, audio_length = decode_wav_batch(tf.constant([data]))
    expected = resample_to_16k(stored.mean(axis=1), 8000).numpy()
    assert audio_length.numpy().tolist() == [len(expected)]
    np.testing.assert_allclose(audio.numpy()[0], expected, atol=1e-6)


def test_mixed_rates_and_channels_in_one_batch_are_zero_padded(speech: list[np.ndarray], to_wav) -> None:
    files = [(speech[0], 8000, 1), (speech[1], 44100, 2), (speech[2], 16000, 4)]
    wavs = [to_wav(np.tile(audio[:, None], (1, channels)), rate) for audio, rate, channels in files]
    audio, audio_length = decode_wav_batch(tf.constant(wavs))
    expected_lengths = [output_length(len(a), rate) for a, rate, _ in files]
    assert audio_length.numpy().tolist() == expected_lengths
    assert audio.shape == (3, max(expected_lengths))
    for row, length in enumerate(expected_lengths):
        assert not audio.numpy()[row, length:].any()
        assert np.abs(audio.numpy()[row, :length]).max() > 0.01


@pytest.mark.parametrize("data", [b"", b"RI", b"not a wav file at all", b"RIFF\x24\x00\x00\x00AVI LIST"])
def test_non_wav_bytes_are_an_invalid_argument(data: bytes) -> None:
    with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(MSG_NOT_WAV)):
        decode_wav_batch(tf.constant([data]))


def test_24_bit_wav_is_an_invalid_argument_not_garbage(to_wav) -> None:
    data = to_wav(np.zeros(1600, np.float32), 16000, subtype="PCM_24")
    with pytest.raises(tf.errors.InvalidArgumentError, match="16-bit"):
        decode_wav_batch(tf.constant([data]))


def test_empty_batch_is_an_invalid_argument() -> None:
    with pytest.raises(tf.errors.InvalidArgumentError, match=MSG_EMPTY_BATCH):
        decode_wav_batch(tf.constant([], dtype=tf.string))
