"""Gives transcripts in the corpus alphabet: uppercase A-Z, apostrophe and single spaces, numbers as words.

The demo model's tokenizer knows only those characters, and every score (ours and pocketsphinx's) is taken
on text normalised by `normalize_transcript`, so the two systems are judged the same way.
"""

from __future__ import annotations

import re

DIGIT_WORDS = ("ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE")
_UNDER_TWENTY = DIGIT_WORDS + (
    "TEN", "ELEVEN", "TWELVE", "THIRTEEN", "FOURTEEN",
    "FIFTEEN", "SIXTEEN", "SEVENTEEN", "EIGHTEEN", "NINETEEN",
)  # fmt: skip
_TENS = ("", "", "TWENTY", "THIRTY", "FORTY", "FIFTY", "SIXTY", "SEVENTY", "EIGHTY", "NINETY")
_SCALES = ((1_000_000, "MILLION"), (1_000, "THOUSAND"), (100, "HUNDRED"))
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
    if number < 20:
        return _UNDER_TWENTY[number]
    if number < 100:
        tens, ones = divmod(number, 10)
        return _TENS[tens] + ("" if ones == 0 else " " + _UNDER_TWENTY[ones])
    for scale, name in _SCALES:
        if number >= scale:
            head, rest = divmod(number, scale)
            words = f"{number_to_words(head)} {name}"
            return words if rest == 0 else f"{words} {number_to_words(rest)}"
    raise AssertionError("unreachable: every number >= 100 has a scale")


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
