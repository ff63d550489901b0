"""`LexiconBeamDecoder`: beam search that only spells words of the LM, on hand-made CTC emissions."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from ctc_decoding import LanguageModelError, LexiconBeamDecoder, build_language_model, log_softmax

TOKENS = ["<pad>", "<s>", "</s>", "<unk>", "|", *"ETAONIHSRDLUMWCFGYPBVK'XJQZ"]
SENTENCES = ["HELLO WORLD", "HELLO THERE", "GOOD MORNING WORLD", "GOOD NIGHT", "IT'S A GOOD WORLD"]


def emissions(frames: list[dict[str, float]]) -> np.ndarray:
    """Return [frames, vocab] log-probabilities: each frame's listed tokens get those probabilities, the rest
    share what is left."""
    probs = np.zeros((len(frames), len(TOKENS)), dtype=np.float32)
    for row, frame in enumerate(frames):
        rest = (1.0 - sum(frame.values())) / (len(TOKENS) - len(frame))
        probs[row] = rest
        for token, prob in frame.items():
            probs[row, TOKENS.index(token)] = prob
    return np.log(probs)


def spelled(text: str) -> list[dict[str, float]]:
    """Return frames that greedy CTC reads as `text` (a blank between repeated letters, `|` for spaces)."""
    frames, previous = [], None
    for char in text.replace(" ", "|"):
        if char == previous:
            frames.append({"<pad>": 0.9})
        frames.append({char: 0.9})
        previous = char
    return frames


@pytest.fixture(scope="module")
def decoder(tmp_path_factory: pytest.TempPathFactory) -> LexiconBeamDecoder:
    lm_dir = tmp_path_factory.mktemp("lm")
    build_language_model(SENTENCES, TOKENS, lm_dir)
    return LexiconBeamDecoder(lm_dir)


def test_clean_emissions_decode_to_their_words(decoder: LexiconBeamDecoder) -> None:
    assert decoder.decode(emissions(spelled("GOOD MORNING WORLD"))) == "GOOD MORNING WORLD"


def test_a_misheard_letter_is_corrected_to_a_lexicon_word(decoder: LexiconBeamDecoder) -> None:
    frames = spelled("HELLO WORLD")
    frames[frames.index({"L": 0.9}, 8)] = {"K": 0.5, "L": 0.3}  # WORLD's L: greedy would read WORKD

    assert decoder.decode(emissions(frames)) == "HELLO WORLD"


def test_only_lexicon_words_are_output_whatever_the_audio(decoder: LexiconBeamDecoder) -> None:
    rng = np.random.default_rng(0)
    lexicon = {word for sentence in SENTENCES for word in sentence.split()}
    for _ in range(20):
        logits = rng.normal(size=(40, len(TOKENS))).astype(np.float32) * 3
        log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        assert set(decoder.decode(log_probs).split()) <= lexicon


def test_a_padded_batch_is_decoded_row_by_row_within_its_lengths(decoder: LexiconBeamDecoder) -> None:
    short, long = emissions(spelled("GOOD NIGHT")), emissions(spelled("HELLO THERE"))
    logits = np.full((2, len(long), len(TOKENS)), -30.0, dtype=np.float32)
    logits[0, : len(short)], logits[1] = short, long
    logits[0, len(short) :, TOKENS.index("W")] = 30.0  # padding frames that would add words if read

    assert decoder.decode_logits(logits, np.array([len(short), len(long)])) == ["GOOD NIGHT", "HELLO THERE"]


def test_no_frames_give_an_empty_transcript(decoder: LexiconBeamDecoder) -> None:
    assert decoder.decode(np.zeros((0, len(TOKENS)), dtype=np.float32)) == ""


def test_emissions_of_another_vocabulary_size_are_refused(decoder: LexiconBeamDecoder) -> None:
    with pytest.raises(LanguageModelError, match=r"shape \[frames, 32\]"):
        decoder.decode(np.zeros((5, 30), dtype=np.float32))


def test_a_model_with_another_vocabulary_is_refused(decoder: LexiconBeamDecoder) -> None:
    decoder.check_vocabulary(TOKENS)
    with pytest.raises(LanguageModelError, match="was built for the vocabulary"):
        decoder.check_vocabulary([token.lower() for token in TOKENS])


def test_a_shared_decoder_gives_the_same_results_from_many_threads(decoder: LexiconBeamDecoder) -> None:
    from concurrent.futures import ThreadPoolExecutor

    inputs = [emissions(spelled(sentence)) for sentence in SENTENCES] * 8
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(decoder.decode, inputs))
    assert results == SENTENCES * 8


def test_an_unreadable_arpa_file_is_a_clear_error(tmp_path: Path) -> None:
    build_language_model(SENTENCES, TOKENS, tmp_path)
    (tmp_path / "lm.arpa").write_text("\\data\\\nngram 1=2\n\n\\1-grams:\n-1.0 A B C D\n")
    with pytest.raises(LanguageModelError):
        LexiconBeamDecoder(tmp_path)


def test_grid_search_ranks_weights_by_dev_wer(decoder: LexiconBeamDecoder) -> None:
    from ctc_decoding.tuning import grid_search

    log_probs = [emissions(spelled(sentence)) for sentence in SENTENCES]

    scores = grid_search(decoder, log_probs, SENTENCES, [1.0], [-30.0, 1.0], progress=False)

    assert [(score.word_score, score.wer) for score in scores][0] == (1.0, 0.0)
    assert scores[1].word_score == -30.0 and scores[1].wer > 0.3  # a heavy per-word penalty deletes words
    assert decoder.config.word_score == 1.0  # tuning copies never change the shared decoder


def test_loading_draws_no_progress_bar_on_stderr(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    build_language_model(SENTENCES, TOKENS, tmp_path)
    capfd.readouterr()
    LexiconBeamDecoder(tmp_path)
    print("still here", file=sys.stderr)  # stderr works again afterwards
    assert capfd.readouterr().err == "still here\n"


def test_log_softmax_gives_scipys_emissions_bit_for_bit() -> None:
    import scipy.special

    logits = np.random.default_rng(0).normal(0, 8, size=(3, 50, 32)).astype(np.float32)
    logits[0, 0] = -np.inf  # a frame with no finite logit: NaNs, as scipy gives, not an exception
    logits[1, 1, 5] = np.inf
    logits[2, 2] = 1e30
    with np.errstate(invalid="ignore"):  # inf - inf in both
        expected = scipy.special.log_softmax(logits, axis=-1)
        ours = log_softmax(logits)
    assert ours.dtype == np.float32
    np.testing.assert_array_equal(ours, expected)
