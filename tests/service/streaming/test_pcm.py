"""Raw PCM frames of any size become the model's 16 kHz mono float32, the same as the whole audio at once."""

from __future__ import annotations

import numpy as np
import pytest
import soxr

from service.streaming import PcmConverter


def frames(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_s16_frames_split_mid_sample_decode_like_the_whole() -> None:
    rng = np.random.default_rng(0)
    ints = rng.integers(-20000, 20000, size=(1600, 2), dtype=np.int16)
    converter = PcmConverter("pcm_s16le", 16_000, channels=2)
    out = np.concatenate([converter.convert(frame) for frame in frames(ints.tobytes(), 333)])  # odd: splits samples
    np.testing.assert_allclose(out, ints.astype(np.float32).mean(axis=1) / 32768.0, atol=1e-6)


def test_f32_frames_at_8khz_resample_like_the_whole_file() -> None:
    t = np.arange(8000) / 8000
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    converter = PcmConverter("f32le", 8_000, channels=1)
    out = np.concatenate([converter.convert(frame) for frame in frames(tone.tobytes(), 320)] + [converter.flush()])
    whole = soxr.resample(tone, 8_000, 16_000, quality="HQ")
    assert abs(len(out) - len(whole)) <= 1
    n = min(len(out), len(whole))
    np.testing.assert_allclose(out[100 : n - 100], whole[100 : n - 100], atol=1e-3)


def test_nan_samples_are_refused() -> None:
    with pytest.raises(ValueError, match="NaN"):
        PcmConverter("f32le", 16_000, 1).convert(np.array([0.0, np.nan], np.float32).tobytes())
