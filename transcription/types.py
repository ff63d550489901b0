"""The values a timed transcript is made of; every front door (HTTP, OpenAI, WebSocket, Wyoming, CLI) speaks these."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Word:
    """One recognised word; times are seconds from the start of the uploaded (whole) audio."""

    text: str
    start_s: float
    end_s: float
    confidence: float  # in [0, 1]; how it is computed per decoder: docs/transcripts.md


@dataclass(frozen=True)
class Segment:
    """A subtitle-sized run of words, split at pauses or at a maximum length."""

    id: int
    start_s: float
    end_s: float
    text: str
    words: tuple[Word, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Transcript:
    """The whole result of one audio file: its text, words, segments, and how it was decoded."""

    text: str
    duration_s: float
    decoder: str  # the decoder's name as `/v1/models` reports it: "greedy" or "lm"
    words: tuple[Word, ...] = field(default_factory=tuple)
    segments: tuple[Segment, ...] = field(default_factory=tuple)
    model_version: int | None = None  # set by the gateway: the version of the model that answered
