"""The frame-count formula is one piece of integer arithmetic, importable without TensorFlow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.support.tiny_models import tiny_config
from wav2vec2.config import Wav2Vec2Config
from wav2vec2.lengths import frame_count, frame_lengths, receptive_field

ROOT = Path(__file__).resolve().parents[2]


def test_integer_and_tensor_frame_counts_agree_and_start_at_the_receptive_field() -> None:
    for config in (Wav2Vec2Config(), tiny_config()):
        samples = np.arange(0, 3 * receptive_field(config))
        counts = [frame_count(int(n), config) for n in samples]
        np.testing.assert_array_equal(frame_lengths(samples, config).numpy(), counts)
        assert counts[receptive_field(config) - 1] == 0 and counts[receptive_field(config)] == 1
    assert frame_count(16_000, Wav2Vec2Config()) == 49  # one second of base-model audio: 20 ms frames, 25 ms window


def test_counting_frames_does_not_load_tensorflow() -> None:
    script = (
        "import sys; from wav2vec2.config import Wav2Vec2Config; from wav2vec2.lengths import frame_count, "
        "receptive_field; print(frame_count(16000, Wav2Vec2Config()), receptive_field(Wav2Vec2Config()), "
        "'tensorflow' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["49", "400", "False"], done.stderr[-2000:]
