"""Decoders: greedy text is the tokenizer's (the graph's) greedy text; words carry times and confidences."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import tensorflow as tf

from ctc_decoding import LexiconBeamDecoder, log_softmax
from engine.model_client import SavedModelClient
from service.config import BUNDLED_MODEL_PATH
from transcription import GreedyDecoder, LanguageModelDecoder
from transcription.assembler import WordAssembler
from transcription.chunking import ChunkPlan, FrameGeometry
from wav2vec2.tokenizer import Wav2Vec2CTCTokenizer

TOKENIZER = Wav2Vec2CTCTokenizer()  # base-960h's vocabulary: <pad>=0, |=4, E=5, T=6, ...
FESTIVAL = Path(__file__).resolve().parents[1] / "fixtures" / "festival"


def one_hot_logits(frame_tokens: list[int], vocab_size: int = 32, peak: float = 12.0) -> np.ndarray:
    logits = np.zeros((len(frame_tokens), vocab_size), dtype=np.float32)
    logits[np.arange(len(frame_tokens)), frame_tokens] = peak
    return logits


def test_greedy_text_equals_the_graphs_greedy_text_function():
    rng = np.random.default_rng(1)
    decoder = GreedyDecoder(TOKENIZER)
    for _ in range(20):
        logits = rng.standard_normal((200, 32)).astype(np.float32) * 3
        logits[:, [0, 4]] += 2.0  # blanks and delimiters as often as in speech
        words = decoder.decode(log_softmax(logits), 0, 0.02)
        [expected] = TOKENIZER.greedy_text_tf(tf.constant(logits[None]), tf.constant([200])).numpy()
        assert " ".join(w.text for w in words) == expected.decode("utf-8")


def test_greedy_words_get_the_frames_they_were_emitted_at():
    E, T, blank, bar = 5, 6, 0, 4  # noqa: N806
    # frames:      0      1      2  3  4    5    6    7  8  9 ...
    path = [blank, blank, T, T, blank, E, bar, bar, T, E, E] + [blank] * 20 + [E]
    words = GreedyDecoder(TOKENIZER).decode(log_softmax(one_hot_logits(path)), first_frame=100, frame_s=0.02)
    assert [(w.text, w.start_s, w.end_s) for w in words] == [
        ("TE", 2.04, 2.12),  # frames 102..105
        ("TE", 2.16, 2.22),  # frames 108..110 (the repeated E collapses)
        ("E", 2.62, 2.64),  # after a 0.4 s pause: a new word, though no delimiter was emitted
    ]
    assert all(0.99 < w.confidence <= 1.0 for w in words)


def test_confidence_falls_with_the_models_certainty():
    sure = GreedyDecoder(TOKENIZER).decode(log_softmax(one_hot_logits([6, 5], peak=10.0)), 0, 0.02)
    unsure = GreedyDecoder(TOKENIZER).decode(log_softmax(one_hot_logits([6, 5], peak=1.0)), 0, 0.02)
    assert 0.0 <= unsure[0].confidence < sure[0].confidence <= 1.0


@pytest.fixture(scope="module")
def demo() -> tuple[SavedModelClient, LanguageModelDecoder]:
    client = SavedModelClient(BUNDLED_MODEL_PATH)
    assert client.model_dir.language_model_dir is not None, "the demo model's LM travels inside it"
    return client, LanguageModelDecoder(LexiconBeamDecoder(client.model_dir.language_model_dir))


def test_lm_words_are_the_beam_searchs_words_with_times_inside_the_speech(demo):
    client, decoder = demo
    audio, _ = sf.read(FESTIVAL / "eval_festival-festival-007904.wav", dtype="float32")
    [logits] = client.logits_batch([audio])
    log_probs = log_softmax(logits)
    words = decoder.decode(log_probs, 0, 0.02)
    assert " ".join(w.text for w in words) == decoder._beam.decode(log_probs) == "SEVEN ONE FOUR THREE EIGHT NINE"
    starts = [w.start_s for w in words]
    assert starts == sorted(starts) and all(w.start_s < w.end_s for w in words)
    assert words[0].start_s >= 0.0 and words[-1].end_s <= len(audio) / 16_000
    assert all(0.0 < w.confidence <= 1.0 for w in words)


def test_a_long_file_cut_at_pauses_decodes_to_the_same_greedy_words():
    rng = np.random.default_rng(2)
    path: list[int] = []
    for _ in range(60):  # words of 2-5 letters, pauses of 0.1-0.6 s between them
        path += [int(t) for t in rng.integers(5, 31, rng.integers(2, 6))] + [4] + [0] * int(rng.integers(5, 30))
    log_probs = log_softmax(one_hot_logits(path))
    decoder = GreedyDecoder(TOKENIZER)
    whole = decoder.decode(log_probs, 0, 0.02)
    geometry = FrameGeometry(320, 400)
    plan = ChunkPlan.from_seconds(4.0, 0.5, geometry)
    num_samples = (len(path) - 1) * 320 + 400
    assembler = WordAssembler(decoder, geometry.frame_s, max_pending_frames=plan.chunk_samples // 320)
    pieces = []
    for window in plan.windows(num_samples):
        frames = geometry.num_frames(window.end - window.start)
        pieces.append(assembler.add(window, one_hot_logits(path[window.first_frame : window.first_frame + frames])))
    pieces.append(assembler.finish())
    assert sum(bool(p) for p in pieces) > 3, "words must come out while the file is processed"
    assert [w for p in pieces for w in p] == whole


def test_an_lm_word_spread_over_a_pause_gets_the_times_of_its_main_part():
    from transcription.decoders import WordSpan, main_run

    T, H, R, E, blank = 6, 11, 13, 5, 0  # noqa: N806
    path = np.array([T] + [blank] * 30 + [H, R, E, E], dtype=np.int32)  # a stray T, 0.6 s of silence, "HREE"
    span = WordSpan(0, len(path) - 1, (T, H, R, E))
    assert main_run(span, path, blank, pause_frames=15) == WordSpan(31, 34, (T, H, R, E))
    assert main_run(WordSpan(31, 34, (H, R, E)), path, blank, pause_frames=15) == WordSpan(31, 34, (H, R, E))


def test_lm_decoding_of_audio_cut_anywhere_gives_the_beams_words(demo):
    client, decoder = demo
    audio, _ = sf.read(FESTIVAL / "eval_festival-festival-007906.wav", dtype="float32")
    cuts = [int(s * 16_000) for s in np.arange(0.5, 2.7, 0.1)]  # many cut inside a word, as streaming windows do
    for cut, logits in zip(cuts, client.logits_batch([audio[:cut] for cut in cuts]), strict=True):
        log_probs = log_softmax(logits)
        words = decoder.decode(log_probs, 0, 0.02)
        assert " ".join(w.text for w in words) == decoder._beam.decode(log_probs), cut
        assert all(0 <= w.start_s <= w.end_s <= cut / 16_000 + 0.02 for w in words), (cut, words)
