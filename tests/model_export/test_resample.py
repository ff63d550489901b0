"""The in-graph resampler: flat passband, no aliasing, and agreement with soxr (the gateway's resampler)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import soxr
import tensorflow as tf

from model_export.errors import MSG_UNSUPPORTED_RATE
from model_export.resample import SUPPORTED_RATES_HZ, TARGET_RATE_HZ, resample_to_16k

# Traced once for every length and rate, as the served graph holds it (a plain tf.function retraced per call).
resample = tf.function(
    resample_to_16k, input_signature=[tf.TensorSpec([None], tf.float32), tf.TensorSpec([], tf.int32)], autograph=False
)


def _tone(freq_hz: float, rate_hz: int, duration_s: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate_hz * duration_s)) / rate_hz
    return np.sin(2 * np.pi * freq_hz * t).astype(np.float32)


def _gain_db(out: np.ndarray) -> float:
    core = out[1000:-1000]  # away from the edges, where the filter sees the zero padding
    return float(10 * np.log10(np.mean(core**2) / 0.5))


def _snr_db(out: np.ndarray, ref: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(np.abs(ref) ** 2) / np.sum(np.abs(out - ref) ** 2)))


@pytest.mark.parametrize("rate_hz", [8000, 11025, 22050, 32000, 44100, 48000])
def test_passband_is_flat(rate_hz: int) -> None:
    # 0.8 * the lower Nyquist frequency: 6.4 kHz when decimating, 3.2 kHz from 8 kHz.
    freq_hz = 0.8 * min(rate_hz, TARGET_RATE_HZ) / 2
    assert abs(_gain_db(resample(_tone(freq_hz, rate_hz), rate_hz).numpy())) < 0.01


@pytest.mark.parametrize("rate_hz", [22050, 44100, 48000, 96000])
@pytest.mark.parametrize("freq_hz", [8100.0, 9000.0, 10500.0])
def test_content_above_8khz_does_not_alias(rate_hz: int, freq_hz: float) -> None:
    assert _gain_db(resample(_tone(freq_hz, rate_hz), rate_hz).numpy()) < -75.0


@pytest.mark.parametrize("rate_hz", [r for r in SUPPORTED_RATES_HZ if r not in (8000, TARGET_RATE_HZ)])
def test_matches_soxr_on_real_speech(rate_hz: int, speech: list[np.ndarray]) -> None:
    source = soxr.resample(speech[0], 8000, rate_hz, quality="VHQ").astype(np.float32)
    ref = soxr.resample(source, rate_hz, TARGET_RATE_HZ, quality="VHQ")
    out = resample(source, rate_hz).numpy()
    assert out.shape == ref.shape
    # Both filters are flat where this speech has energy (< 4 kHz): they differ by their -80 dB stopbands.
    assert _snr_db(out, ref) > 60.0


def test_matches_soxr_from_8khz_up_to_its_passband_edge(speech: list[np.ndarray]) -> None:
    ref = soxr.resample(speech[0], 8000, TARGET_RATE_HZ, quality="VHQ")
    out = resample(speech[0], 8000).numpy()
    assert out.shape == ref.shape
    # 8 kHz speech fills its band to 4 kHz; our transition band starts at 0.85 * 4 kHz = 3.4 kHz and soxr's at
    # ~3.9 kHz, so the whole-band SNR is bounded by the 3.4-4 kHz energy (~38 dB here) ...
    assert _snr_db(out, ref) > 35.0
    # ... and below 3.4 kHz the two agree as closely as at the other rates.
    spectrum_out, spectrum_ref = np.fft.rfft(out), np.fft.rfft(ref)
    band = np.fft.rfftfreq(len(out), 1 / TARGET_RATE_HZ) < 3400
    assert _snr_db(spectrum_out[band], spectrum_ref[band]) > 60.0


@pytest.mark.parametrize("rate_hz", [11025, 22050, 44100, 48000])
@pytest.mark.parametrize("num_samples", [0, 1, 441, 12345])
def test_length_is_the_one_soxr_gives(rate_hz: int, num_samples: int) -> None:
    source = np.random.default_rng(0).standard_normal(num_samples).astype(np.float32)
    expected = len(soxr.resample(source, rate_hz, TARGET_RATE_HZ)) if num_samples else 0
    assert resample(source, rate_hz).shape[0] == expected


def test_16khz_passes_through_unchanged() -> None:
    source = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    np.testing.assert_array_equal(resample(source, 16000).numpy(), source)


def test_unsupported_rate_is_an_invalid_argument() -> None:
    with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(MSG_UNSUPPORTED_RATE)):
        resample(np.zeros(100, np.float32), 44000)
