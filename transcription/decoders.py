"""Decoders: a stretch of CTC log-probabilities in, timed and scored words out.

Both decoders end the same way: a token path (one token id per frame: the argmax for greedy decoding, the
best beam's path for the LM) is cut into words at the word delimiter, and each word gets

- `start_s`: the first frame of its first token, `end_s`: the end of the last frame of its last token
  (frame `k` starts at `k * samples_per_frame / 16 kHz`, 20 ms per frame for wav2vec 2.0);
- `confidence`: the geometric mean, over the word's frames (first token to last, blanks between letters
  included), of the probability the model gives the path's token at that frame. In [0, 1].

docs/transcripts.md derives these and says what they mean.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ctc_decoding import LexiconBeamDecoder
from transcription.names import GREEDY, LANGUAGE_MODEL
from transcription.types import Word
from wav2vec2.tokenizer import Wav2Vec2CTCTokenizer

# Blank frames lasting this long end a word even without a delimiter, and make a pause where a long file may be
# cut for decoding (transcription.assembler): 15 frames of wav2vec 2.0 (20 ms each).
PAUSE_S = 0.3


def pause_frames(frame_s: float) -> int:
    """Return how many frames of `frame_s` seconds make a pause."""
    return max(1, round(PAUSE_S / frame_s))


class Decoder(Protocol):
    """Turns log-probabilities `[frames, vocab]` of frames `first_frame...` into words with whole-file times."""

    name: str  # "greedy" or "lm": what requests ask for and responses report
    blank_id: int  # the CTC blank
    delimiter_id: int  # the word delimiter ("|")

    def describe(self) -> str:
        """Return a one-line description for `/v1/models` and logs."""

    def decode(self, log_probs: np.ndarray, first_frame: int, frame_s: float) -> list[Word]:
        """Return the words of this stretch, times in seconds of the whole audio."""


@dataclass(frozen=True)
class WordSpan:
    """A word on a token path: frames `[start, end]` (inclusive) and the token ids it spells, collapsed."""

    start: int
    end: int
    token_ids: tuple[int, ...]


def word_spans(
    frame_tokens: np.ndarray, blank_id: int, delimiter_id: int, pause_frames: int | None = None
) -> list[WordSpan]:
    """Return the words of a per-frame token path: CTC-collapsed runs of tokens between word delimiters.

    With `pause_frames`, a run of at least that many blank frames also ends a word: a model rarely emits a
    delimiter after the last word before a silence, and the words either side of a pause are not one word.
    """
    # frame_tokens: [frames] int
    spans: list[WordSpan] = []
    start = last = -1
    token_ids: list[int] = []
    previous = -1
    for frame, token in enumerate(frame_tokens.tolist()):
        if token_ids and pause_frames is not None and token == blank_id and frame - last >= pause_frames:
            spans.append(WordSpan(start, last, tuple(token_ids)))
            token_ids = []
        if token == delimiter_id:
            if token_ids:
                spans.append(WordSpan(start, last, tuple(token_ids)))
                token_ids = []
        elif token != blank_id:
            if not token_ids:
                start = frame
            if token != previous or not token_ids:
                token_ids.append(token)
            last = frame
        previous = token
    if token_ids:
        spans.append(WordSpan(start, last, tuple(token_ids)))
    return spans


def main_run(span: WordSpan, frame_tokens: np.ndarray, blank_id: int, pause_frames: int) -> WordSpan:
    """Return `span` narrowed to its longest run of letters without a pause inside.

    A beam search may spell one lexicon word with a letter on either side of a silence (a stray letter in the
    tail of the previous utterance, the rest after the pause); the word was said where most of it is.
    """
    letters = [frame for frame in range(span.start, span.end + 1) if frame_tokens[frame] != blank_id]
    runs: list[list[int]] = [[letters[0]]]
    for frame in letters[1:]:
        if frame - runs[-1][-1] >= pause_frames:
            runs.append([])
        runs[-1].append(frame)
    if len(runs) == 1:
        return span
    longest = max(runs, key=len)
    return WordSpan(longest[0], longest[-1], span.token_ids)


def path_confidence(log_probs: np.ndarray, frame_tokens: np.ndarray, start: int, end: int) -> float:
    """Return the geometric mean of the path's token probabilities over frames `[start, end]`."""
    frames = np.arange(start, end + 1)
    mean_log_prob = float(np.mean(log_probs[frames, frame_tokens[frames]]))
    return min(max(math.exp(mean_log_prob), 0.0), 1.0)


def timed_word(
    text: str, span: WordSpan, log_probs: np.ndarray, frame_tokens: np.ndarray, first_frame: int, frame_s: float
) -> Word:
    return Word(
        text=text,
        start_s=round((first_frame + span.start) * frame_s, 3),
        end_s=round((first_frame + span.end + 1) * frame_s, 3),
        confidence=round(path_confidence(log_probs, frame_tokens, span.start, span.end), 4),
    )


class GreedyDecoder:
    """Best token per frame, repeats collapsed, blanks dropped: the text `Wav2Vec2CTCTokenizer.greedy_text_tf`
    gives (the export graph's and `asr eval`'s function), split into timed words, and split at pauses of at
    least `PAUSE_S` of blank frames too."""

    name = GREEDY

    def __init__(self, tokenizer: Wav2Vec2CTCTokenizer) -> None:
        self._tokens = tokenizer.tokens_table()
        self.blank_id = tokenizer.pad_token_id
        self.delimiter_id = tokenizer.vocab[tokenizer.word_delimiter_token]
        self._lower = tokenizer.do_lower_case

    def describe(self) -> str:
        return "greedy CTC (best token per frame)"

    def decode(self, log_probs: np.ndarray, first_frame: int, frame_s: float) -> list[Word]:
        frame_tokens = np.argmax(log_probs, axis=-1).astype(np.int32)
        words = []
        for span in word_spans(frame_tokens, self.blank_id, self.delimiter_id, pause_frames(frame_s)):
            text = "".join(self._tokens[token] for token in span.token_ids)
            words.append(timed_word(text.lower() if self._lower else text, span, log_probs, frame_tokens,
                                    first_frame, frame_s))  # fmt: skip
        return words


class LanguageModelDecoder:
    """Lexicon-constrained beam search with a word n-gram LM (`ctc_decoding`), its best path timed and scored.

    A word whose letters the path spreads over a pause gets the times of its longest run (`main_run`)."""

    name = LANGUAGE_MODEL

    def __init__(self, beam_decoder: LexiconBeamDecoder) -> None:
        self._beam = beam_decoder
        self.blank_id = beam_decoder.blank_id
        self.delimiter_id = beam_decoder.delimiter_id

    def describe(self) -> str:
        return self._beam.describe()

    @property
    def lm_dir(self) -> Path:
        return self._beam.lm_dir

    def check_vocabulary(self, tokens: Sequence[str]) -> None:
        self._beam.check_vocabulary(tokens)

    def decode(self, log_probs: np.ndarray, first_frame: int, frame_s: float) -> list[Word]:
        result = self._beam.search(log_probs)
        spans = word_spans(result.frame_tokens, self.blank_id, self.delimiter_id)
        spans = [main_run(span, result.frame_tokens, self.blank_id, pause_frames(frame_s)) for span in spans]
        return [
            timed_word(text, span, log_probs, result.frame_tokens, first_frame, frame_s)
            for text, span in self._match(result.words, spans, len(log_probs))
        ]

    def _match(self, words: Sequence[str], spans: list[WordSpan], num_frames: int) -> list[tuple[str, WordSpan]]:
        """Pair each emitted word with the path's span that spells it, in order.

        Usually one span per word; but a path that ends inside a word (audio cut mid-word) has letters no word
        was emitted for, and those spans are skipped. A word left without a span gets the last frame.
        """
        tokens = self._beam.config.tokens
        pairs: list[tuple[str, WordSpan]] = []
        next_span = 0
        for word in words:
            match = next_span
            while match < len(spans) and "".join(tokens[t] for t in spans[match].token_ids) != word:
                match += 1
            if match == len(spans):  # spelled otherwise than its letters (should not happen): keep the order
                match = next_span
            if match < len(spans):
                pairs.append((word, spans[match]))
                next_span = match + 1
            else:
                last = max(num_frames - 1, 0)
                pairs.append((word, WordSpan(last, last, ())))
        return pairs
