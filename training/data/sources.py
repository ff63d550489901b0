"""Corpus sources: each turns one on-disk layout into a stream of `Utterance`s (or reasons to skip one)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from training.errors import ManifestError


@dataclass(frozen=True)
class Utterance:
    """One recording and its transcript; `audio_path` is read later, by the TFRecord writer."""

    utterance_id: str
    audio_path: Path
    transcript: str


@dataclass(frozen=True)
class Skipped:
    """An entry of a corpus listing that cannot become an utterance, with the reason a user can act on."""

    utterance_id: str
    reason: str


SourceItem = Utterance | Skipped


def librispeech_utterances(root: str | Path) -> Iterator[SourceItem]:
    """Yields the utterances of a LibriSpeech-style tree: `*.trans.txt` lines `ID TEXT` beside `ID.flac`."""
    root = Path(root)
    if not root.is_dir():
        raise ManifestError(f"LibriSpeech root {root} is not a directory")
    transcript_files = sorted(root.rglob("*.trans.txt"))
    if not transcript_files:
        raise ManifestError(f"no *.trans.txt files under {root}")
    for transcript_file in transcript_files:
        for line_number, line in enumerate(transcript_file.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            utterance_id, _, text = line.strip().partition(" ")
            audio_path = transcript_file.parent / f"{utterance_id}.flac"
            if not text.strip():
                yield Skipped(utterance_id, f"empty transcript at {transcript_file}:{line_number}")
            elif not audio_path.is_file():
                yield Skipped(utterance_id, f"missing audio {audio_path}")
            else:
                yield Utterance(utterance_id, audio_path, text.strip())


def manifest_utterances(manifest: str | Path, unlabelled: bool = False) -> Iterator[SourceItem]:
    """Yields the utterances of a manifest: `path<TAB>transcript` (.tsv) or `path,transcript` (.csv).

    Relative paths are relative to the manifest's folder; a first row whose path column reads `path` is a
    header and is skipped. `unlabelled` (audio for pretraining) accepts rows of a path alone, transcript "".
    """
    manifest = Path(manifest)
    if not manifest.is_file():
        raise ManifestError(f"manifest {manifest} does not exist")
    delimiter = "," if manifest.suffix.lower() == ".csv" else "\t"
    with manifest.open(newline="", encoding="utf-8") as handle:
        for row_number, row in enumerate(csv.reader(handle, delimiter=delimiter), 1):
            if not row or not "".join(row).strip():
                continue
            if row_number == 1 and row[0].strip().lower() == "path":
                continue
            utterance_id = f"{manifest.name}:{row_number}"
            if unlabelled:
                row = row[:1] + [""]
            if len(row) < 2:
                yield Skipped(utterance_id, f"expected 'path{delimiter!r}transcript', got {row!r}")
                continue
            audio_path = Path(row[0].strip())
            if not audio_path.is_absolute():
                audio_path = manifest.parent / audio_path
            text = delimiter.join(row[1:]).strip()
            if not text and not unlabelled:
                yield Skipped(utterance_id, f"empty transcript for {audio_path}")
            elif not audio_path.is_file():
                yield Skipped(utterance_id, f"missing audio {audio_path}")
            else:
                yield Utterance(audio_path.stem, audio_path, text)


AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a")


def audio_folder_utterances(root: str | Path) -> Iterator[SourceItem]:
    """Yields every audio file under `root` (by suffix) with an empty transcript: unlabelled pretraining audio."""
    root = Path(root)
    if not root.is_dir():
        raise ManifestError(f"audio folder {root} is not a directory")
    files = sorted(path for path in root.rglob("*") if path.suffix.lower() in AUDIO_SUFFIXES and path.is_file())
    if not files:
        raise ManifestError(f"no audio files ({', '.join(AUDIO_SUFFIXES)}) under {root}")
    for audio_path in files:
        yield Utterance(str(audio_path.relative_to(root).with_suffix("")), audio_path, "")
