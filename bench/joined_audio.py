"""A long recording made of known utterances and known silences: the ground truth for long-audio tests and benches.

The utterances are the real recordings in tests/fixtures (FSDD digits, festival sentences), cycled in a shuffled
order, each followed by a silence of random length; every utterance's span in the joined file is recorded, so a
test knows where each word may be and where no word may start.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audio_input import load_audio
from wav2vec2 import SAMPLE_RATE_HZ

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"


@dataclass(frozen=True)
class Span:
    """One utterance in the joined file: where it is (seconds) and which recording it is."""

    start_s: float
    end_s: float
    source: Path


@dataclass(frozen=True)
class JoinedAudio:
    samples: np.ndarray  # [samples] float32, 16 kHz
    spans: tuple[Span, ...]
    utterances: dict[Path, np.ndarray]  # each source recording at 16 kHz

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE_HZ


def fixture_utterances() -> dict[Path, np.ndarray]:
    """Return every fixture recording, resampled to 16 kHz mono float32."""
    paths = sorted((FIXTURES / "festival").glob("*.wav")) + sorted((FIXTURES / "fsdd").glob("*.wav"))
    return {path: load_audio(path, SAMPLE_RATE_HZ).samples for path in paths}


def join_utterances(
    duration_s: float, seed: int = 0, silence_s: tuple[float, float] = (0.8, 2.0), noise_level: float = 1e-3
) -> JoinedAudio:
    """Return at least `duration_s` of utterances separated by silences (quiet noise) of `silence_s` seconds."""
    rng = np.random.default_rng(seed)
    utterances = fixture_utterances()
    paths = list(utterances)
    pieces: list[np.ndarray] = []
    spans: list[Span] = []
    position = 0
    while position < duration_s * SAMPLE_RATE_HZ:
        for index in rng.permutation(len(paths)):
            audio = utterances[paths[index]]
            spans.append(Span(position / SAMPLE_RATE_HZ, (position + len(audio)) / SAMPLE_RATE_HZ, paths[index]))
            silence = int(rng.uniform(*silence_s) * SAMPLE_RATE_HZ)
            pieces += [audio, (noise_level * rng.standard_normal(silence)).astype(np.float32)]
            position += len(audio) + silence
            if position >= duration_s * SAMPLE_RATE_HZ:
                break
    return JoinedAudio(np.concatenate(pieces), tuple(spans), utterances)


def tiled(audio: JoinedAudio, duration_s: float) -> np.ndarray:
    """Return `audio`'s samples repeated up to `duration_s` (for benchmarks of hour-long files)."""
    num_samples = int(duration_s * SAMPLE_RATE_HZ)
    repeats = -(-num_samples // len(audio.samples))
    return np.tile(audio.samples, repeats)[:num_samples]
