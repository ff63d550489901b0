"""Segments split at pauses and at the length limits, and keep every word once, in order."""

from __future__ import annotations

from transcription import SegmentRules, Word, group_words


def words_at(*spans: tuple[str, float, float]) -> list[Word]:
    return [Word(text, start, end, 0.9) for text, start, end in spans]


def test_a_pause_starts_a_new_segment():
    words = words_at(("ONE", 0.0, 0.3), ("TWO", 0.4, 0.7), ("THREE", 1.5, 1.9), ("FOUR", 2.0, 2.3))
    segments = group_words(words, SegmentRules(pause_s=0.5))
    assert [s.text for s in segments] == ["ONE TWO", "THREE FOUR"]
    assert [(s.id, s.start_s, s.end_s) for s in segments] == [(0, 0.0, 0.7), (1, 1.5, 2.3)]
    assert [w for s in segments for w in s.words] == words


def test_long_speech_without_pauses_is_split_at_the_maximum_duration_and_length():
    words = [Word("WORD", 0.5 * i, 0.5 * i + 0.4, 1.0) for i in range(40)]
    by_time = group_words(words, SegmentRules(pause_s=1.0, max_duration_s=3.0, max_chars=1000))
    assert all(s.end_s - s.start_s <= 3.0 for s in by_time) and len(by_time) > 1
    by_chars = group_words(words, SegmentRules(pause_s=1.0, max_duration_s=100.0, max_chars=20))
    assert all(len(s.text) <= 20 for s in by_chars) and len(by_chars) > 1
    assert [w for s in by_chars for w in s.words] == words


def test_no_words_no_segments():
    assert group_words([]) == ()
