"""Our tokenizer decodes exactly as Hugging Face's Wav2Vec2CTCTokenizer and encodes as it does."""

from __future__ import annotations

import numpy as np
import pytest
from transformers import Wav2Vec2CTCTokenizer as HFTokenizer

from wav2vec2 import VocabularyError, Wav2Vec2CTCTokenizer, Wav2Vec2Processor
from wav2vec2.tokenizer import BASE_960H_VOCAB


@pytest.fixture(scope="module")
def tokenizers(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tok")
    ours = Wav2Vec2CTCTokenizer()
    ours.save_pretrained(directory)
    return ours, HFTokenizer.from_pretrained(directory)


def test_decode_matches_hf_on_random_ctc_frames(tokenizers):
    ours, reference = tokenizers
    rng = np.random.default_rng(0)
    # CTC-like frames: long runs of blanks and repeats, delimiters, and the special tokens <s> </s> <unk>.
    for _ in range(200):
        ids = rng.choice(len(BASE_960H_VOCAB), size=rng.integers(0, 60), p=_ctc_like_distribution())
        ids = np.repeat(ids, rng.integers(1, 4, size=ids.shape))
        assert ours.decode(ids) == reference.decode(ids.tolist()), ids.tolist()


def test_batch_decode_matches_hf_and_skips_special_tokens(tokenizers):
    ours, reference = tokenizers
    batch = [[0, 11, 11, 5, 15, 0, 15, 8, 4, 4, 18, 8, 13, 15, 14, 0], [3, 1, 7, 2, 0], [], [4, 4, 0]]
    assert ours.batch_decode(batch) == reference.batch_decode(batch)
    # HF's skip_special_tokens drops the CTC blank *before* collapsing repeats, which merges the two Ls of
    # HELLO ("HELO WORLD"); ours collapses first, then drops <s> </s> <unk>, which keeps the blank's meaning.
    assert reference.decode(batch[0], skip_special_tokens=True) == "HELO WORLD"
    assert ours.batch_decode(batch, skip_special_tokens=True) == ["HELLO WORLD", "A", "", ""]
    assert ours.decode(batch[0]) == "HELLO WORLD"


def test_encode_matches_hf(tokenizers):
    ours, reference = tokenizers
    for text in ["hello world", "It's 42 o'clock", "  two   spaces "]:
        assert ours.encode(text) == reference(" ".join(text.split()).upper()).input_ids


def test_seed_call_style_still_works():
    ids = Wav2Vec2Processor(is_tokenizer=True)("HELLO WORLD")
    assert Wav2Vec2Processor(is_tokenizer=True).decode(ids) == "HELO WORLD"  # repeats collapse: CTC semantics
    speech = np.random.default_rng(1).normal(3.0, 2.0, 16000).astype(np.float32)
    normalised = Wav2Vec2Processor(is_tokenizer=False)(speech)
    assert normalised.shape == speech.shape
    assert abs(normalised.mean()) < 1e-5 and abs(normalised.std() - 1.0) < 1e-4


def _ctc_like_distribution() -> np.ndarray:
    p = np.ones(len(BASE_960H_VOCAB))
    p[0] = 25  # blank
    p[4] = 5  # word delimiter
    return p / p.sum()


def test_decode_refuses_a_batch_and_batch_decode_gives_one_text_per_row():
    processor = Wav2Vec2Processor(is_tokenizer=True)
    batch = np.array([[11, 5, 15, 15, 0, 15, 8], [18, 8, 13, 15, 14, 0, 0]])
    with pytest.raises(ValueError, match="batch_decode"):
        processor.decode(batch)
    assert processor.batch_decode(batch) == ["HELLO", "WORLD"]


def test_vocabulary_with_a_gap_in_its_ids_is_refused_early():
    vocab = {"<pad>": 0, "<unk>": 1, "|": 2, "A": 4}
    with pytest.raises(VocabularyError, match=r"ids must be 0..3.*missing ids \[3\]"):
        Wav2Vec2CTCTokenizer(vocab)
