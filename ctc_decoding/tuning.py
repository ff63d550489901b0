"""Chooses `lm_weight` and `word_score` by WER on a dev set: the grid search every LM decoder needs.

The acoustic model runs once; each grid point only re-runs the beam search on the cached log-probabilities.
Tune on held-out dev audio, never on the test set you report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import jiwer
import numpy as np
from tqdm import tqdm

from ctc_decoding.lexicon_decoder import LexiconBeamDecoder


@dataclass(frozen=True)
class WeightScore:
    """The dev-set error rates of one (lm_weight, word_score) pair."""

    lm_weight: float
    word_score: float
    wer: float
    cer: float


def grid_search(
    decoder: LexiconBeamDecoder,
    log_probs: Sequence[np.ndarray],
    references: Sequence[str],
    lm_weights: Sequence[float],
    word_scores: Sequence[float],
    progress: bool = True,
) -> list[WeightScore]:
    """Return every grid point's WER/CER, best first (lowest WER, then CER); `log_probs`: [frames, vocab] each."""
    if len(log_probs) != len(references) or not references:
        raise ValueError(f"need one reference per utterance, got {len(log_probs)} and {len(references)}")
    references = list(references)
    grid = [(lm_weight, word_score) for lm_weight in lm_weights for word_score in word_scores]
    scores = []
    for lm_weight, word_score in tqdm(grid, desc="lm weights", disable=not progress):
        tuned = decoder.with_weights(lm_weight, word_score)
        hypotheses = [tuned.decode(utterance) for utterance in log_probs]
        scores.append(
            WeightScore(lm_weight, word_score, jiwer.wer(references, hypotheses), jiwer.cer(references, hypotheses))
        )
    return sorted(scores, key=lambda score: (score.wer, score.cer))
