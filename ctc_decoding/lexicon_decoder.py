"""Lexicon-constrained CTC beam search with a KenLM word n-gram model (flashlight-text's decoder).

Greedy decoding (what the SavedModel does in-graph) spells whatever it hears, one frame at a time: a small
model writes "TWRO" or "SAOND". This decoder only outputs words of the language model's vocabulary and
weighs each hypothesis by acoustic log-probability + `lm_weight` x n-gram log-probability + `word_score` per
word: the decoding that torchaudio's `ctc_decoder` and HF's `Wav2Vec2ProcessorWithLM` offer, here over
numpy log-probabilities so it works on logits from any backend.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from flashlight.lib.text.decoder import (
    CriterionType,
    LexiconDecoder,
    LexiconDecoderOptions,
    SmearingMode,
    Trie,
)
from flashlight.lib.text.decoder.kenlm import KenLM
from flashlight.lib.text.dictionary import Dictionary

from ctc_decoding.errors import LanguageModelError
from ctc_decoding.language_model import (
    ARPA_FILE,
    DecoderConfig,
    arpa_unigrams,
    read_decoder_config,
    spell,
    unspellable_words,
)

_UNK_WORD = "<unk>"
_IMPOSSIBLE_LOG_PROB = -1e5  # finite: flashlight adds scores, and -inf + inf terms would turn into NaN


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null meanwhile: KenLM draws a progress bar there from C++ on every load,
    which would land in the gateway's JSON log stream and under `asr transcribe` output. Its errors are raised
    as exceptions, so nothing a user needs is lost."""
    sys.stderr.flush()
    saved_fd = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved_fd, 2)
        os.close(saved_fd)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Return float32 log-probabilities over the last axis (the decoder's emissions are float32).

    `scipy.special.log_softmax`'s steps in NumPy, bit for bit: the slim gateway image leaves scipy out for its size
    (docs/deployment.md). Shifting by the row's maximum keeps `exp` from overflowing; a row whose maximum is not
    finite is not shifted, as in scipy.
    """
    logits = logits.astype(np.float32)
    row_max = logits.max(axis=-1, keepdims=True)
    shifted = logits - np.where(np.isfinite(row_max), row_max, 0)
    with np.errstate(divide="ignore"):  # a row of -inf has log(0) = -inf, as scipy gives
        return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


@dataclasses.dataclass(frozen=True)
class BeamResult:
    """The best beam: its words, and the token id the path takes at each frame (for word times)."""

    words: tuple[str, ...]
    frame_tokens: np.ndarray  # [frames] int32


class LexiconBeamDecoder:
    """Decodes CTC log-probabilities into words of a language-model folder (see `ctc_decoding.language_model`).

    Loading builds the spelling trie once; each `decode` call makes its own (cheap) search object, so one
    instance may be shared by threads.
    """

    def __init__(self, lm_dir: Path) -> None:
        self.lm_dir = Path(lm_dir)
        self.config: DecoderConfig = read_decoder_config(self.lm_dir)
        words = arpa_unigrams(self.lm_dir / ARPA_FILE)
        if not words:
            raise LanguageModelError(f"{self.lm_dir / ARPA_FILE} has no words in its 1-gram section")
        bad_words = unspellable_words(words, self.config.tokens)
        if bad_words:
            raise LanguageModelError(
                f"{self.lm_dir / ARPA_FILE}: {len(bad_words)} words cannot be spelled with the decoder's "
                f"tokens, e.g. {bad_words[:5]}"
            )
        self.num_words = len(words)
        self._token_dict = Dictionary(list(self.config.tokens))
        self._word_dict = Dictionary([*words, _UNK_WORD])
        try:
            with native_stderr_silenced():
                self._lm = KenLM(str(self.lm_dir / ARPA_FILE), self._word_dict)
        except RuntimeError as error:
            raise LanguageModelError(f"KenLM cannot read {self.lm_dir / ARPA_FILE}: {error}") from error
        self._delimiter_id = self._token_dict.get_index(self.config.word_delimiter_token)
        self._blank_id = self._token_dict.get_index(self.config.blank_token)
        self._unk_word_id = self._word_dict.get_index(_UNK_WORD)
        self._trie = self._spelling_trie(words)
        self._options = self._search_options(self.config)

    @staticmethod
    def _search_options(config: DecoderConfig) -> LexiconDecoderOptions:
        return LexiconDecoderOptions(
            beam_size=config.beam_size,
            beam_size_token=len(config.tokens),
            beam_threshold=config.beam_threshold,
            lm_weight=config.lm_weight,
            word_score=config.word_score,
            unk_score=float("-inf"),  # out-of-lexicon words are never output
            sil_score=0.0,
            log_add=False,
            criterion_type=CriterionType.CTC,
        )

    def _spelling_trie(self, words: list[str]) -> Trie:
        # Each word's node carries its unigram score, smeared up the trie so partial words are ranked too.
        trie = Trie(len(self.config.tokens), self._delimiter_id)
        start_state = self._lm.start(False)
        for word in words:
            word_id = self._word_dict.get_index(word)
            _, unigram_score = self._lm.score(start_state, word_id)
            spelling = [self._token_dict.get_index(token) for token in spell(word, self.config)]
            trie.insert(spelling, word_id, unigram_score)
        trie.smear(SmearingMode.MAX)
        return trie

    def with_weights(self, lm_weight: float, word_score: float) -> LexiconBeamDecoder:
        """Return a decoder with other beam weights, sharing this one's LM and trie (for tuning)."""
        tuned = copy.copy(self)
        tuned.config = dataclasses.replace(self.config, lm_weight=lm_weight, word_score=word_score)
        tuned._options = self._search_options(tuned.config)
        return tuned

    def check_vocabulary(self, model_tokens: Sequence[str]) -> None:
        """Raise `LanguageModelError` unless the acoustic model's vocabulary is the one the LM was built for."""
        if list(model_tokens) != self.config.tokens:
            raise LanguageModelError(
                f"the language model at {self.lm_dir} was built for the vocabulary {self.config.tokens}, "
                f"but the acoustic model's is {list(model_tokens)}"
            )

    def describe(self) -> str:
        """Return a one-line summary for logs and `/v1/models`."""
        return (
            f"lexicon beam search, {self.config.order}-gram LM over {self.num_words} words "
            f"(beam {self.config.beam_size}, lm_weight {self.config.lm_weight:g}, "
            f"word_score {self.config.word_score:g})"
        )

    @property
    def blank_id(self) -> int:
        return self._blank_id

    @property
    def delimiter_id(self) -> int:
        return self._delimiter_id

    def search(self, log_probs: np.ndarray) -> BeamResult:
        """Return the best hypothesis of one utterance: its words and its per-frame token path.

        `log_probs`: [frames, vocab] log-softmax output.
        """
        if log_probs.ndim != 2 or log_probs.shape[1] != len(self.config.tokens):
            raise LanguageModelError(
                f"expected log-probabilities of shape [frames, {len(self.config.tokens)}], got {log_probs.shape}"
            )
        num_frames = log_probs.shape[0]
        if num_frames == 0:
            return BeamResult((), np.zeros(0, dtype=np.int32))
        # Lexicon spellings end in the word delimiter, which models rarely emit after the last word: a final
        # frame that is certainly a delimiter closes that word, or the search would drop it.
        end_of_utterance = np.full((1, log_probs.shape[1]), _IMPOSSIBLE_LOG_PROB, dtype=np.float32)
        end_of_utterance[0, self._delimiter_id] = 0.0
        emissions = np.ascontiguousarray(np.concatenate([log_probs, end_of_utterance]), dtype=np.float32)
        search = LexiconDecoder(
            self._options,
            self._trie,
            self._lm,
            self._delimiter_id,
            self._blank_id,
            self._unk_word_id,
            [],
            False,
        )
        results = search.decode(emissions.ctypes.data, num_frames + 1, emissions.shape[1])
        if not results:
            return BeamResult((), np.full(num_frames, self._blank_id, dtype=np.int32))
        best = results[0]
        words = tuple(self._word_dict.get_entry(word_id) for word_id in best.words if word_id >= 0)
        # flashlight's token path has one entry before the first frame and one after the last emission frame.
        frame_tokens = np.asarray(best.tokens, dtype=np.int32)[1 : num_frames + 1]
        return BeamResult(words, frame_tokens)

    def decode(self, log_probs: np.ndarray) -> str:
        """Return the best transcript of one utterance; `log_probs`: [frames, vocab] log-softmax output."""
        return " ".join(self.search(log_probs).words)

    def decode_logits(self, logits: np.ndarray, logit_length: np.ndarray) -> list[str]:
        """Return one transcript per row of a padded batch.

        `logits`: [batch, frames, vocab] raw model outputs; `logit_length`: [batch] valid frames per row.
        """
        return [self.decode(log_softmax(row[: int(length)])) for row, length in zip(logits, logit_length, strict=True)]
