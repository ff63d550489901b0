"""Gives the Free Spoken Digit Dataset's recordings, split by speaker and take, and digit sequences built
from them.

FSDD (github.com/Jakobovski/free-spoken-digit-dataset, CC BY-SA 4.0): `{digit}_{speaker}_{index}.wav`,
8 kHz mono, one digit per file. One speaker is held out entirely for evaluation; of the others, the last
takes of every digit are the dev set.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from demo_model.augment import pad_silence
from training.data.fsdd import DIGIT_WORDS, FSDD_FILE_NAME

# jackson is the one speaker with a neutral US accent: the accent the demo model is for (its festival
# eval voices are US English too). Holding him out asks "does a new speaker work?" of the accent that
# matters, while the four accented speakers (Greek, German x2, Belgian French) widen the training voices.
HELDOUT_SPEAKER = "jackson"
DEV_FIRST_TAKE = 45  # takes 45..49 of each digit and training speaker (10% of them) are the dev set


class FsddLayoutError(ValueError):
    """The FSDD folder is missing, empty, or lacks the held-out speaker."""


@dataclass(frozen=True)
class DigitRecording:
    """One FSDD file: which digit, who said it, which take."""

    path: Path
    digit: int
    speaker: str
    take: int

    @property
    def transcript(self) -> str:
        return DIGIT_WORDS[self.digit]


def list_recordings(root: str | Path) -> list[DigitRecording]:
    """Returns every `{digit}_{speaker}_{index}.wav` under `root`, sorted by path (other files are ignored)."""
    root = Path(root)
    if not root.is_dir():
        raise FsddLayoutError(f"FSDD recordings folder {root} does not exist")
    recordings = []
    for path in sorted(root.glob("*.wav")):
        match = FSDD_FILE_NAME.match(path.stem)
        if match:
            recordings.append(DigitRecording(path, int(match[1]), match[2], int(match[3])))
    if not recordings:
        raise FsddLayoutError(f"no '{{digit}}_{{speaker}}_{{index}}.wav' files in {root}")
    return recordings


def split_recordings(
    recordings: Sequence[DigitRecording], heldout_speaker: str = HELDOUT_SPEAKER
) -> dict[str, list[DigitRecording]]:
    """Returns {"train", "dev", "eval"}: eval is every take of `heldout_speaker`; dev the late takes of others."""
    speakers = sorted({recording.speaker for recording in recordings})
    if heldout_speaker not in speakers:
        raise FsddLayoutError(f"held-out speaker {heldout_speaker!r} not among {speakers}")
    groups: dict[str, list[DigitRecording]] = {"train": [], "dev": [], "eval": []}
    for recording in recordings:
        if recording.speaker == heldout_speaker:
            groups["eval"].append(recording)
        else:
            groups["dev" if recording.take >= DEV_FIRST_TAKE else "train"].append(recording)
    return groups


def pick_sequence(
    recordings: Sequence[DigitRecording], rng: random.Random, min_digits: int = 2, max_digits: int = 6
) -> list[DigitRecording]:
    """Returns 2..6 random takes of one random speaker, to be joined into a spoken digit sequence."""
    speaker = rng.choice(sorted({recording.speaker for recording in recordings}))
    own = [recording for recording in recordings if recording.speaker == speaker]
    return [rng.choice(own) for _ in range(rng.randint(min_digits, max_digits))]


def join_with_gaps(pieces: Sequence[np.ndarray], rng: random.Random) -> np.ndarray:
    """Returns the clips joined with 50-300 ms of silence between them (FSDD files are trimmed tight)."""
    parts = [pad_silence(piece, 0.0, rng.uniform(0.05, 0.3)) for piece in pieces[:-1]]
    return np.concatenate([*parts, pieces[-1]]).astype(np.float32)
