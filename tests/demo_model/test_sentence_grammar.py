"""The grammar's sentences are learnable (small vocabulary, short) and the sets never share a sentence."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from demo_model.sentences import generate_sentences, sample_covering, split_sentences, vocabulary
from demo_model.text import normalize_transcript
from training.data.fsdd import DIGIT_WORDS

COMMITTED_LISTS = Path(__file__).resolve().parents[2] / "demo_model" / "sentences"


def test_sentences_are_distinct_normalised_and_deterministic() -> None:
    sentences = generate_sentences(2000, seed=3)
    assert len(set(sentences)) == 2000
    assert all(sentence == normalize_transcript(sentence) for sentence in sentences)
    assert generate_sentences(50, seed=3) == sentences[:50]


def test_vocabulary_stays_small_and_sentences_short() -> None:
    sentences = generate_sentences(5000)
    assert len(vocabulary(sentences)) < 400
    assert max(len(sentence.split()) for sentence in sentences) <= 12
    digit_only = [s for s in sentences if set(s.split()) <= set(DIGIT_WORDS)]
    assert len(digit_only) > 0.2 * len(sentences)


def test_split_is_disjoint_and_held_out_words_are_all_trained() -> None:
    groups = split_sentences(generate_sentences(5000))
    train, dev, evaluation = (set(groups[name]) for name in ("train", "dev", "eval"))
    assert not train & dev and not train & evaluation and not dev & evaluation
    assert len(evaluation) > 100 and len(dev) > 100
    assert vocabulary(groups["eval"]) <= vocabulary(groups["train"])
    assert set(DIGIT_WORDS) <= train  # single digits are core vocabulary, always trained


def test_committed_lists_are_disjoint() -> None:
    lists = {name: set((COMMITTED_LISTS / f"{name}.txt").read_text().split("\n")) - {""}
             for name in ("train", "dev", "eval")}  # fmt: skip
    assert not lists["train"] & lists["eval"]
    assert not lists["train"] & lists["dev"]
    assert not lists["dev"] & lists["eval"]


def test_sample_covering_uses_every_word_and_the_requested_count() -> None:
    sentences = generate_sentences(3000)
    sample = sample_covering(sentences, 400, random.Random(0))
    assert len(sample) == 400
    assert vocabulary(sample) == vocabulary(sentences)
    with pytest.raises(ValueError, match="more than 3"):
        sample_covering(sentences, 3, random.Random(0))
