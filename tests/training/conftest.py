"""Shared fixtures for the training tests: synthetic corpora of tones with known transcripts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.training.synthetic_speech import TINY_MODEL, TINY_VOCAB, spoken, tone, write_wav


@pytest.fixture
def tone_manifest(tmp_path: Path) -> Path:
    """A TSV manifest of 12 WAV files, 0.3 s to 2.5 s long, with transcripts of 1-3 words."""
    rng = np.random.default_rng(0)
    words = ["AB", "BA", "A", "B", "ABBA"]
    lines = []
    for index in range(12):
        duration_s = 0.3 + 0.2 * index
        path = write_wav(tmp_path / "wavs" / f"utt{index}.wav", tone(200 + 50 * index, duration_s))
        text = " ".join(rng.choice(words, size=1 + index % 3))
        lines.append(f"wavs/{path.name}\t{text}")
    manifest = tmp_path / "corpus.tsv"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


@pytest.fixture(scope="session")
def tone_corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """TFRecords of 4 tone utterances, the tiny model config and vocab: paths keyed `data`, `model`, `vocab`."""
    import json

    from training.data.sources import Utterance
    from training.data.tfrecords import write_tfrecords

    root = tmp_path_factory.mktemp("tone_corpus")
    texts = ["AB", "BA", "A B", "BAB A"]
    items = [Utterance(f"u{i}", write_wav(root / f"u{i}.wav", spoken(t)), t) for i, t in enumerate(texts)]
    write_tfrecords(items, str(root / "rec"), shard_size=2, progress=False)
    (root / "model.json").write_text(json.dumps(TINY_MODEL))
    (root / "vocab.json").write_text(json.dumps(TINY_VOCAB))
    return {
        "data": str(root / "rec" / "*.tfrecord"),
        "model": str(root / "model.json"),
        "vocab": str(root / "vocab.json"),
        "root": str(root),
    }
