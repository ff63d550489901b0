"""The Free Spoken Digit Dataset (FSDD): its file names, its ten transcripts, and its recordings as `Utterance`s.

`asr prepare --fsdd` reads it through `fsdd_utterances`; the demo model's corpus (demo_model/) splits it by
speaker and reuses its digit words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from training.data.sources import Skipped, SourceItem, Utterance
from training.errors import ManifestError

# The transcript of each FSDD digit (also the demo corpus's digit vocabulary).
DIGIT_WORDS = ("ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE")
# An FSDD file stem `{digit}_{speaker}_{take}`: groups 1, 2, 3.
FSDD_FILE_NAME = re.compile(r"^(\d)_([A-Za-z0-9-]+)_(\d+)$")


def fsdd_utterances(root: str | Path) -> Iterator[SourceItem]:
    """Yields Free Spoken Digit Dataset recordings: `{digit}_{speaker}_{index}.wav`, transcript = digit word."""
    root = Path(root)
    if not root.is_dir():
        raise ManifestError(f"FSDD folder {root} is not a directory")
    wav_files = sorted(root.rglob("*.wav"))
    if not wav_files:
        raise ManifestError(f"no .wav files under {root}")
    for audio_path in wav_files:
        match = FSDD_FILE_NAME.match(audio_path.stem)
        if match is None:
            yield Skipped(audio_path.stem, f"name {audio_path.name} is not '{{digit}}_{{speaker}}_{{index}}.wav'")
        else:
            yield Utterance(audio_path.stem, audio_path, DIGIT_WORDS[int(match.group(1))])
