"""Augmentations keep audio at 16 kHz, with a sane length and level, and change what they claim to."""

from __future__ import annotations

import random

import numpy as np
import pytest

from demo_model.augment import (
    add_noise,
    add_reverb,
    apply_gain,
    change_speed,
    colored_noise,
    random_augment,
    telephone_band,
)
from wav2vec2 import SAMPLE_RATE_HZ


def _speechlike(duration_s: float = 1.0) -> np.ndarray:
    """A 200 Hz buzz with harmonics up to 6 kHz, amplitude-modulated like syllables."""
    t = np.arange(int(duration_s * SAMPLE_RATE_HZ)) / SAMPLE_RATE_HZ
    buzz = sum(np.sin(2 * np.pi * 200 * k * t) / k for k in range(1, 31))
    return (0.3 * buzz * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t)) / 2).astype(np.float32)


def _band_energy(audio: np.ndarray, low_hz: float, high_hz: float) -> float:
    spectrum = np.abs(np.fft.rfft(audio)) ** 2
    frequencies = np.fft.rfftfreq(audio.shape[0], 1 / SAMPLE_RATE_HZ)
    return float(spectrum[(frequencies >= low_hz) & (frequencies < high_hz)].sum())


def test_speed_changes_duration_by_the_factor() -> None:
    audio = _speechlike(2.0)
    assert change_speed(audio, 1.25).shape[0] == pytest.approx(audio.shape[0] / 1.25, abs=2)
    with pytest.raises(ValueError, match="-1"):
        change_speed(audio, -1)


def test_gain_never_clips() -> None:
    louder = apply_gain(_speechlike(), 30.0)
    assert np.max(np.abs(louder)) <= 0.99 + 1e-6
    assert np.max(np.abs(apply_gain(_speechlike(), -20.0))) == pytest.approx(0.1 * np.max(np.abs(_speechlike())))


def test_noise_lands_at_the_requested_snr() -> None:
    audio = _speechlike(2.0)
    noisy = add_noise(audio, 10.0, "pink", np.random.default_rng(0))
    snr_db = 10 * np.log10(np.mean(audio**2) / np.mean((noisy - audio) ** 2))
    assert snr_db == pytest.approx(10.0, abs=0.1)
    with pytest.raises(ValueError, match="purple"):
        colored_noise(100, "purple", np.random.default_rng(0))


def test_reverb_and_telephone_keep_length_and_telephone_cuts_high_frequencies() -> None:
    audio = _speechlike()
    reverberant = add_reverb(audio, 0.4, np.random.default_rng(0))
    phone = telephone_band(audio)
    assert reverberant.shape == audio.shape == phone.shape
    assert np.max(np.abs(reverberant)) == pytest.approx(np.max(np.abs(audio)), rel=1e-4)
    assert _band_energy(phone, 4000, 8000) < 1e-3 * _band_energy(audio, 4000, 8000)
    assert _band_energy(phone, 500, 3000) > 0.5 * _band_energy(audio, 500, 3000)


def test_random_augment_keeps_audio_sane() -> None:
    audio = _speechlike(1.5)
    rng = random.Random(0)
    for _ in range(40):
        augmented, applied = random_augment(audio, rng)
        assert augmented.dtype == np.float32 and np.all(np.isfinite(augmented))
        assert 1.5 / 1.1 <= augmented.shape[0] / SAMPLE_RATE_HZ <= 1.5 / 0.9 + 0.6
        assert 0 < np.max(np.abs(augmented)) <= 0.99 + 1e-6
        assert applied[-1].startswith("gain")
