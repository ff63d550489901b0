"""Normalisation over valid samples matches HF's feature extractor; padding never enters the statistics."""

from __future__ import annotations

import numpy as np
import pytest
from transformers import Wav2Vec2FeatureExtractor as HFFeatureExtractor

from tests.support.hf_checkpoints import save_with_transformers
from wav2vec2 import Wav2Vec2Processor


def test_normalisation_matches_hf_per_utterance():
    rng = np.random.default_rng(0)
    utterances = [rng.normal(0.5, 3.0, n).astype(np.float32) for n in (16000, 4000, 9999)]
    reference = HFFeatureExtractor(return_attention_mask=True, do_normalize=True)
    expected = reference(utterances, sampling_rate=16000, padding=True, return_tensors="np")
    batch = Wav2Vec2Processor().pad(utterances)
    assert batch.audio_length.tolist() == [16000, 4000, 9999]
    np.testing.assert_allclose(batch.audio, expected["input_values"], atol=1e-5)
    assert np.all(batch.audio[1, 4000:] == 0.0)


def test_processor_round_trips_its_files(tmp_path):
    processor = Wav2Vec2Processor()
    processor.save_pretrained(tmp_path)
    reloaded = Wav2Vec2Processor.from_pretrained(tmp_path)
    assert reloaded.tokenizer.vocab == processor.tokenizer.vocab
    assert reloaded.sampling_rate == 16000


@pytest.mark.parametrize("layout", ["processor_config.json", "preprocessor_config.json"])
def test_a_processor_saved_by_transformers_is_read_with_its_own_settings(tmp_path, layout: str) -> None:
    save_with_transformers(tmp_path, layout)
    assert (tmp_path / layout).exists()

    processor = Wav2Vec2Processor.from_pretrained(tmp_path)
    audio = np.random.default_rng(0).normal(0.5, 3.0, 8000).astype(np.float32)
    np.testing.assert_array_equal(processor(audio), audio)  # not normalised, as saved
    assert processor.feature_extractor.padding_value == 0.25
    assert processor.tokenizer.vocab == Wav2Vec2Processor().tokenizer.vocab
