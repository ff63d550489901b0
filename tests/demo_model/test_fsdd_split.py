"""The held-out FSDD speaker never reaches train or dev; digit sequences come from one speaker."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from demo_model.fsdd import FsddLayoutError, join_with_gaps, list_recordings, pick_sequence, split_recordings
from demo_model.synth import read_16k_mono
from wav2vec2 import SAMPLE_RATE_HZ


@pytest.fixture
def fsdd_folder(tmp_path: Path) -> Path:
    """Three speakers x 3 digits x 50 takes of 0.2 s 8 kHz noise, plus a file to ignore."""
    rng = np.random.default_rng(0)
    for speaker in ("anna", "jackson", "bob"):
        for digit in range(3):
            for take in range(50):
                clip = (0.1 * rng.standard_normal(1600)).astype(np.float32)
                sf.write(tmp_path / f"{digit}_{speaker}_{take}.wav", clip, 8000, subtype="PCM_16")
    (tmp_path / "notes.wav").write_bytes(b"")
    return tmp_path


def test_split_holds_one_speaker_out(fsdd_folder: Path) -> None:
    recordings = list_recordings(fsdd_folder)
    assert len(recordings) == 450
    groups = split_recordings(recordings, "jackson")
    assert {r.speaker for r in groups["eval"]} == {"jackson"} and len(groups["eval"]) == 150
    assert "jackson" not in {r.speaker for r in groups["train"] + groups["dev"]}
    assert {r.take for r in groups["dev"]} == set(range(45, 50))
    assert groups["train"][0].transcript in ("ZERO", "ONE", "TWO")


def test_missing_folder_or_speaker_is_a_layout_error(fsdd_folder: Path, tmp_path: Path) -> None:
    with pytest.raises(FsddLayoutError, match="nobody"):
        split_recordings(list_recordings(fsdd_folder), "nobody")
    with pytest.raises(FsddLayoutError, match="does not exist"):
        list_recordings(tmp_path / "absent")


def test_sequences_join_one_speakers_takes_with_gaps(fsdd_folder: Path) -> None:
    rng = random.Random(0)
    train = split_recordings(list_recordings(fsdd_folder), "jackson")["train"]
    takes = pick_sequence(train, rng)
    assert 2 <= len(takes) <= 6 and len({take.speaker for take in takes}) == 1
    clips = [read_16k_mono(take.path) for take in takes]
    joined = join_with_gaps(clips, rng)
    pieces_s = sum(clip.shape[0] for clip in clips) / SAMPLE_RATE_HZ
    gaps_s = joined.shape[0] / SAMPLE_RATE_HZ - pieces_s
    assert 0.05 * (len(takes) - 1) <= gaps_s <= 0.3 * (len(takes) - 1) + 1e-3
