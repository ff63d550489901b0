"""Gives transcripts in the corpus alphabet: uppercase A-Z, apostrophe and single spaces, numbers as words.

The demo model's tokenizer knows only those characters, and every score (ours and pocketsphinx's) is taken
on text normalised by `normalize_transcript`, so the two systems are judged the same way.
"""

from __future__ import annotations

import re

from num2words import num2words

from training.data.fsdd import DIGIT_WORDS

# Longer digit strings are codes, read digit by digit (and a number this size is never said as one).
MAX_NUMBER = 999_999_999

_NUMBER = re.compile(r"\d+")
_NOT_ALPHABET = re.compile(r"[^A-Z' ]+")
_SPACES = re.compile(r" +")


class TextNormalizationError(ValueError):
    """A number is outside what `number_to_words` spells (negative or above `MAX_NUMBER`)."""


def number_to_words(number: int) -> str:
    """Returns `number` spelled the way people read it aloud, without "AND": 206 -> "TWO HUNDRED SIX"."""
    if number < 0 or number > MAX_NUMBER:
        raise TextNormalizationError(f"can only spell 0..{MAX_NUMBER}, got {number}")
    # num2words writes British "two hundred and six", "twenty-one", "one thousand, two": in the corpus
    # alphabet that is the words alone, without "AND" (the same output as the demo corpus was built with).
    words = num2words(number).replace(",", " ").replace("-", " ").split()
    return " ".join(word for word in words if word != "and").upper()


def digits_to_words(digits: str) -> str:
    """Returns a digit string read digit by digit: "0742" -> "ZERO SEVEN FOUR TWO" (phone numbers, codes)."""
    return " ".join(DIGIT_WORDS[int(digit)] for digit in digits)


def _spell_number(match: re.Match[str]) -> str:
    digits = match.group(0)
    # A leading zero or more than nine digits is a code, not a quantity: read it digit by digit.
    if (len(digits) > 1 and digits[0] == "0") or len(digits) > len(str(MAX_NUMBER)):
        return f" {digits_to_words(digits)} "
    return f" {number_to_words(int(digits))} "


def normalize_transcript(text: str) -> str:
    """Returns `text` in the corpus alphabet: numbers spelled out, punctuation dropped, uppercase, one space.

    Apostrophes inside words survive ("DON'T"); hyphens and other punctuation become word breaks.
    """
    text = _NUMBER.sub(_spell_number, text.upper().replace("\u2019", "'"))
    text = _NOT_ALPHABET.sub(" ", text)
    words = [word.strip("'") for word in _SPACES.split(text)]
    return " ".join(word for word in words if word)
