"""Where a stream cuts its segments: `choose_cut` on decoded words, against the policy's pause, context and cap."""

from __future__ import annotations

import pytest

from service.streaming import WindowPolicy, choose_cut
from service.streaming.window import split_at_pauses
from transcription import Word

POLICY = WindowPolicy(hop_s=0.5, left_context_s=1.0, right_context_s=0.5, pause_s=0.5, max_segment_s=4.0)


def words(*spans: tuple[str, float, float]) -> list[Word]:
    return [Word(text, start_s, end_s, 0.9) for text, start_s, end_s in spans]


def test_words_before_a_pause_are_final_and_the_next_segment_starts_inside_the_pause() -> None:
    decoded = words(("call", 0.2, 0.5), ("david", 0.6, 1.0), ("five", 1.8, 2.1))
    cut = choose_cut(decoded, segment_start_s=0.0, window_end_s=2.4, policy=POLICY, flush=False)
    assert [word.text for word in cut.final_words] == ["call", "david"]
    assert [word.text for word in cut.open_words] == ["five"]
    assert 1.0 < cut.next_start_s < 1.8


def test_a_trailing_pause_must_be_heard_in_full_before_the_last_word_is_final() -> None:
    decoded = words(("call", 0.2, 0.5), ("david", 0.6, 1.0))
    not_yet = choose_cut(decoded, 0.0, window_end_s=1.3, policy=POLICY, flush=False)
    assert not_yet.final_words == () and len(not_yet.open_words) == 2
    now = choose_cut(decoded, 0.0, window_end_s=1.6, policy=POLICY, flush=False)
    assert [word.text for word in now.final_words] == ["call", "david"]


def test_short_gaps_inside_a_phrase_do_not_end_the_segment() -> None:
    decoded = words(("one", 0.1, 0.4), ("two", 0.6, 0.9), ("three", 1.1, 1.4))
    cut = choose_cut(decoded, 0.0, window_end_s=1.6, policy=POLICY, flush=False)
    assert cut.final_words == () and cut.next_start_s == 0.0


def test_words_of_the_left_context_belong_to_the_previous_segment() -> None:
    decoded = words(("david", 0.6, 1.0), ("five", 1.8, 2.1))
    cut = choose_cut(decoded, segment_start_s=1.3, window_end_s=2.3, policy=POLICY, flush=True)
    assert [word.text for word in cut.final_words] == ["five"]


def test_speech_without_pauses_is_cut_at_the_cap_before_the_right_context() -> None:
    decoded = words(*((f"w{i}", 0.3 * i, 0.3 * i + 0.25) for i in range(14)))  # 4.15 s of unbroken words
    cut = choose_cut(decoded, 0.0, window_end_s=4.2, policy=POLICY, flush=False)
    assert cut.final_words and all(word.end_s <= 4.2 - POLICY.right_context_s for word in cut.final_words)
    assert cut.final_words[-1].end_s <= cut.next_start_s <= cut.open_words[0].start_s
    assert len(cut.final_words) + len(cut.open_words) == 14


def test_silence_is_let_go_so_the_window_stays_small() -> None:
    cut = choose_cut([], segment_start_s=0.0, window_end_s=3.0, policy=POLICY, flush=False)
    assert cut.final_words == () and cut.next_start_s == pytest.approx(2.5)


def test_flush_finalises_every_word() -> None:
    decoded = words(("call", 0.2, 0.5), ("david", 0.6, 0.95))
    cut = choose_cut(decoded, 0.0, window_end_s=1.0, policy=POLICY, flush=True)
    assert len(cut.final_words) == 2 and cut.next_start_s == 1.0


def test_a_policy_whose_cap_leaves_no_room_is_refused() -> None:
    with pytest.raises(ValueError, match="max_segment_s"):
        WindowPolicy(max_segment_s=0.8, right_context_s=0.5, pause_s=0.5)


def test_words_finalised_together_after_a_slow_decode_still_make_one_segment_per_pause() -> None:
    decoded = words(("one", 0.1, 0.4), ("two", 0.5, 0.8), ("three", 1.6, 1.9), ("four", 2.8, 3.1))
    cut = choose_cut(decoded, 0.0, window_end_s=4.0, policy=POLICY, flush=False)
    assert len(cut.final_words) == 4
    groups = split_at_pauses(cut.final_words, POLICY.pause_s)
    assert [[word.text for word in group] for group in groups] == [["one", "two"], ["three"], ["four"]]
