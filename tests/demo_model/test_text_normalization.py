"""Transcripts end up in the model's alphabet, and both systems are scored on the same normalised text."""

from __future__ import annotations

import pytest

from demo_model.text import TextNormalizationError, normalize_transcript, number_to_words


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (0, "ZERO"),
        (13, "THIRTEEN"),
        (40, "FORTY"),
        (206, "TWO HUNDRED SIX"),
        (1234, "ONE THOUSAND TWO HUNDRED THIRTY FOUR"),
        (2_000_017, "TWO MILLION SEVENTEEN"),
    ],
)
def test_number_to_words_reads_numbers_aloud(number: int, words: str) -> None:
    assert number_to_words(number) == words


def test_number_to_words_rejects_what_it_cannot_spell() -> None:
    with pytest.raises(TextNormalizationError, match="-1"):
        number_to_words(-1)


def test_normalize_spells_numbers_and_drops_punctuation_but_keeps_apostrophes() -> None:
    assert normalize_transcript("Don't call 25 people, it’s 5:30!") == (
        "DON'T CALL TWENTY FIVE PEOPLE IT'S FIVE THIRTY"
    )


def test_normalize_reads_codes_with_a_leading_zero_digit_by_digit() -> None:
    assert normalize_transcript("code 0742") == "CODE ZERO SEVEN FOUR TWO"


def test_normalize_leaves_only_the_corpus_alphabet() -> None:
    text = normalize_transcript("  pocketsphinx said: 'seven'  (x-ray) \t é ")
    assert text == "POCKETSPHINX SAID SEVEN X RAY"
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ' ")
