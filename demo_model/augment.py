"""Gives augmented copies of 16 kHz speech: speed, gain, reverb, telephone band, noise (numpy + soxr only).

Synthetic voices are clean and identical every time; the FSDD recordings are 8 kHz real rooms. These
transforms move the training audio toward what the model will hear, and each keeps the sample rate.
"""

from __future__ import annotations

import random

import numpy as np
import soxr

from wav2vec2 import SAMPLE_RATE_HZ

TELEPHONE_RATE_HZ = 8000
TELEPHONE_BAND_HZ = (300.0, 3400.0)
NOISE_EXPONENTS = {"white": 0.0, "pink": 1.0, "brown": 2.0}  # power falls as 1 / f**exponent


def change_speed(audio: np.ndarray, factor: float) -> np.ndarray:
    """Returns `audio` played `factor` times faster (pitch moves with it, as in Kaldi's speed perturbation)."""
    if factor <= 0:
        raise ValueError(f"speed factor must be > 0, got {factor}")
    resampled = soxr.resample(audio, SAMPLE_RATE_HZ, SAMPLE_RATE_HZ / factor, quality="HQ")
    return resampled.astype(np.float32)


def apply_gain(audio: np.ndarray, gain_db: float) -> np.ndarray:
    """Returns `audio` scaled by `gain_db`, then scaled down if that would clip (peak at most 0.99)."""
    scaled = audio * np.float32(10.0 ** (gain_db / 20.0))
    peak = float(np.max(np.abs(scaled), initial=0.0))
    return scaled * np.float32(0.99 / peak) if peak > 0.99 else scaled


def colored_noise(num_samples: int, color: str, rng: np.random.Generator) -> np.ndarray:
    """Returns unit-RMS noise whose power spectrum falls as 1/f**k (white k=0, pink 1, brown 2)."""
    if color not in NOISE_EXPONENTS:
        raise ValueError(f"noise color must be one of {sorted(NOISE_EXPONENTS)}, got {color!r}")
    spectrum = np.fft.rfft(rng.standard_normal(num_samples))
    frequencies = np.maximum(np.fft.rfftfreq(num_samples), 1.0 / max(num_samples, 1))
    spectrum *= frequencies ** (-NOISE_EXPONENTS[color] / 2.0)
    noise = np.fft.irfft(spectrum, n=num_samples)
    return (noise / (np.sqrt(np.mean(noise**2)) + 1e-12)).astype(np.float32)


def add_noise(audio: np.ndarray, snr_db: float, color: str, rng: np.random.Generator) -> np.ndarray:
    """Returns `audio` plus noise at `snr_db` below the speech power (measured over the whole clip)."""
    speech_power = float(np.mean(audio**2))
    noise = colored_noise(audio.shape[0], color, rng)
    return audio + noise * np.float32(np.sqrt(speech_power / 10.0 ** (snr_db / 10.0)))


def add_reverb(audio: np.ndarray, rt60_s: float, rng: np.random.Generator) -> np.ndarray:
    """Returns `audio` convolved with a synthetic room response (decaying noise tail), same length and peak.

    The tail decays by 60 dB over `rt60_s`: amplitude envelope exp(-6.9 t / rt60).
    """
    tail_samples = max(int(rt60_s * SAMPLE_RATE_HZ), 1)
    time_s = np.arange(tail_samples) / SAMPLE_RATE_HZ
    response = rng.standard_normal(tail_samples) * np.exp(-6.9 * time_s / rt60_s) * 0.3
    response[0] = 1.0  # the direct path
    size = audio.shape[0] + tail_samples
    wet = np.fft.irfft(np.fft.rfft(audio, size) * np.fft.rfft(response, size), size)[: audio.shape[0]]
    peak_in, peak_out = float(np.max(np.abs(audio), initial=0.0)), float(np.max(np.abs(wet), initial=0.0))
    return (wet * (peak_in / peak_out if peak_out > 0 else 1.0)).astype(np.float32)


def telephone_band(audio: np.ndarray) -> np.ndarray:
    """Returns `audio` as a phone line passes it: through 8 kHz and band-limited to 300-3400 Hz."""
    narrow = soxr.resample(audio, SAMPLE_RATE_HZ, TELEPHONE_RATE_HZ, quality="HQ")
    spectrum = np.fft.rfft(narrow)
    frequencies = np.fft.rfftfreq(narrow.shape[0], d=1.0 / TELEPHONE_RATE_HZ)
    low_hz, high_hz = TELEPHONE_BAND_HZ
    spectrum[(frequencies < low_hz) | (frequencies > high_hz)] = 0.0
    band = np.fft.irfft(spectrum, n=narrow.shape[0])
    wide = soxr.resample(band, TELEPHONE_RATE_HZ, SAMPLE_RATE_HZ, quality="HQ")
    return fit_length(wide.astype(np.float32), audio.shape[0])


def fit_length(audio: np.ndarray, num_samples: int) -> np.ndarray:
    """Returns `audio` cut or zero-padded at the end to exactly `num_samples`."""
    if audio.shape[0] >= num_samples:
        return audio[:num_samples]
    return np.pad(audio, (0, num_samples - audio.shape[0]))


def pad_silence(audio: np.ndarray, before_s: float, after_s: float) -> np.ndarray:
    """Returns `audio` with digital silence before and after."""
    before, after = int(before_s * SAMPLE_RATE_HZ), int(after_s * SAMPLE_RATE_HZ)
    return np.pad(audio, (before, after)).astype(np.float32)


def random_augment(audio: np.ndarray, rng: random.Random) -> tuple[np.ndarray, list[str]]:
    """Returns a randomly augmented copy of `audio` and the names of the transforms applied, in order.

    About one clip in five stays clean apart from gain and padding, so the model also sees studio audio.
    """
    np_rng = np.random.default_rng(rng.getrandbits(64))
    applied: list[str] = []
    clean = rng.random() < 0.2
    if not clean and rng.random() < 0.5:
        factor = rng.uniform(0.9, 1.1)
        audio = change_speed(audio, factor)
        applied.append(f"speed{factor:.2f}")
    audio = pad_silence(audio, rng.uniform(0.0, 0.3), rng.uniform(0.0, 0.3))
    if not clean and rng.random() < 0.3:
        rt60_s = rng.uniform(0.15, 0.6)
        audio = add_reverb(audio, rt60_s, np_rng)
        applied.append(f"reverb{rt60_s:.2f}")
    if not clean and rng.random() < 0.25:
        audio = telephone_band(audio)
        applied.append("telephone")
    if not clean and rng.random() < 0.6:
        snr_db, color = rng.uniform(5.0, 35.0), rng.choice(sorted(NOISE_EXPONENTS))
        audio = add_noise(audio, snr_db, color, np_rng)
        applied.append(f"{color}{snr_db:.0f}dB")
    gain_db = rng.uniform(-15.0, 3.0)
    applied.append(f"gain{gain_db:+.0f}dB")
    return apply_gain(audio, gain_db), applied
