"""Synthetic speech for the training tests: tones with known transcripts, and a tiny model config."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile

SAMPLE_RATE_HZ = 16_000


def tone(frequency_hz: float, duration_s: float, sample_rate_hz: int = SAMPLE_RATE_HZ) -> np.ndarray:
    """A sine of the given pitch at half scale, float32 `[samples]`."""
    t = np.arange(int(duration_s * sample_rate_hz)) / sample_rate_hz
    return (0.5 * np.sin(2 * np.pi * frequency_hz * t)).astype(np.float32)


def write_wav(path: Path, audio: np.ndarray, sample_rate_hz: int = SAMPLE_RATE_HZ) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), audio, sample_rate_hz, subtype="PCM_16")
    return path


# A 7-token vocabulary: CTC blank/pad, the specials, the word delimiter and two letters.
TINY_VOCAB = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4, "A": 5, "B": 6}
LETTER_TONES_HZ = {"A": 400.0, "B": 1200.0, " ": 0.0}
# Three conv blocks with wav2vec 2.0's total stride (320 samples a frame) and one transformer layer: these tests
# check training mechanics, whose cost here is TensorFlow tracing the graph, which grows with the number of layers.
TINY_MODEL = {
    "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64,
    "conv_dim": [32] * 3, "conv_kernel": [10, 8, 4], "conv_stride": [5, 8, 8],
    "num_conv_pos_embeddings": 16, "num_conv_pos_embedding_groups": 4,
    "hidden_dropout": 0.0, "activation_dropout": 0.0, "attention_dropout": 0.0, "feat_proj_dropout": 0.0,
    "final_dropout": 0.0, "layerdrop": 0.0, "mask_time_prob": 0.0,
}  # fmt: skip


def spoken(text: str, letter_s: float = 0.2, gap_s: float = 0.05) -> np.ndarray:
    """Synthetic speech: one tone per character (silence for a space) with short pauses between them."""
    pause = np.zeros(int(gap_s * SAMPLE_RATE_HZ), np.float32)
    return np.concatenate([part for c in text for part in (tone(LETTER_TONES_HZ[c], letter_s), pause)])
