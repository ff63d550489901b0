"""Segments: words grouped into subtitle-sized pieces, split at pauses and at a maximum length."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from transcription.types import Segment, Word


@dataclass(frozen=True)
class SegmentRules:
    """When a new segment starts: after a pause, or before the current one grows too long.

    The defaults follow common subtitle guidance: at most two lines of 42 characters, on screen at most ~7 s;
    a pause of half a second between words is where a sentence or phrase usually ends.
    """

    pause_s: float = 0.5
    max_duration_s: float = 7.0
    max_chars: int = 84


def group_words(words: Sequence[Word], rules: SegmentRules | None = None) -> tuple[Segment, ...]:
    """Return the segments of `words` (in time order): a new one at each pause >= `pause_s` or length limit."""
    rules = rules or SegmentRules()
    groups: list[list[Word]] = []
    for word in words:
        current = groups[-1] if groups else None
        if current is not None:
            pause_s = word.start_s - current[-1].end_s
            duration_s = word.end_s - current[0].start_s
            chars = sum(len(w.text) + 1 for w in current) + len(word.text)
            if pause_s < rules.pause_s and duration_s <= rules.max_duration_s and chars <= rules.max_chars:
                current.append(word)
                continue
        groups.append([word])
    return tuple(
        Segment(
            id=index,
            start_s=group[0].start_s,
            end_s=group[-1].end_s,
            text=" ".join(word.text for word in group),
            words=tuple(group),
        )
        for index, group in enumerate(groups)
    )
