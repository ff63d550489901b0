"""Logits and hidden states of checkpoints loaded by `from_pretrained` equal Hugging Face's PyTorch model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.support.hf_checkpoints import random_hf_model, save_hub_style_bin
from tests.support.tiny_models import SMALL_LV60_STYLE
from wav2vec2 import Wav2Vec2ForCTC, Wav2Vec2Processor, frame_lengths

TOLERANCE = 1e-5


def assert_close(ours: np.ndarray, reference: np.ndarray) -> None:
    """max |Δ| ≤ 1e-5 relative to max(1, max |reference|)."""
    assert ours.shape == reference.shape
    scale = max(1.0, float(np.abs(reference).max()))
    error = float(np.abs(ours - reference).max()) / scale
    assert error <= TOLERANCE, f"max relative |Δ| = {error:.2e} > {TOLERANCE:.0e}"


def speech_like(batch: int, samples: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(samples) / 16000.0
    tone = np.sin(2 * np.pi * rng.uniform(100, 400, (batch, 1)) * t)
    return (tone + 0.3 * rng.standard_normal((batch, samples))).astype(np.float32)


@pytest.mark.slow
def test_base_960h_architecture_from_hub_style_bin_matches_pytorch(tmp_path):
    """The full base-960h architecture (94 M parameters) from a `.bin` with legacy weight_g/weight_v names."""
    reference = random_hf_model(seed=1)  # transformers' defaults are facebook/wav2vec2-base-960h's
    directory = save_hub_style_bin(reference, tmp_path / "base")
    assert not (directory / "model.safetensors").exists()

    model = Wav2Vec2ForCTC.from_pretrained(directory)
    audio = Wav2Vec2Processor()(speech_like(2, 24000))
    with torch.no_grad():
        expected_logits = reference(torch.from_numpy(audio)).logits.numpy()
        expected_hidden = reference.wav2vec2(torch.from_numpy(audio)).last_hidden_state.numpy()
    assert_close(model(audio).numpy(), expected_logits)
    assert_close(model.wav2vec2(audio).numpy(), expected_hidden)


def test_lv60_style_from_safetensors_matches_pytorch(tmp_path):
    reference = random_hf_model(seed=2, **SMALL_LV60_STYLE)
    reference.save_pretrained(tmp_path / "lv60")  # safetensors, new parametrizations.* names

    model = Wav2Vec2ForCTC.from_pretrained(tmp_path / "lv60")
    audio = speech_like(3, 8000, seed=3)
    with torch.no_grad():
        expected_logits = reference(torch.from_numpy(audio)).logits.numpy()
        expected_hidden = reference.wav2vec2(torch.from_numpy(audio)).last_hidden_state.numpy()
    assert_close(model(audio).numpy(), expected_logits)
    assert_close(model.wav2vec2(audio).numpy(), expected_hidden)


def test_lv60_style_with_attention_mask_matches_pytorch_on_valid_frames(tmp_path):
    reference = random_hf_model(seed=4, **SMALL_LV60_STYLE)
    reference.save_pretrained(tmp_path / "lv60")
    model = Wav2Vec2ForCTC.from_pretrained(tmp_path / "lv60")

    lengths = np.array([8000, 3000, 5100], np.int32)
    batch = Wav2Vec2Processor().pad([speech_like(1, n, seed=i)[0] for i, n in enumerate(lengths)])
    attention_mask = (np.arange(batch.audio.shape[1])[None, :] < lengths[:, None]).astype(np.int32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(batch.audio), attention_mask=torch.from_numpy(attention_mask)).logits
    ours = model(batch.audio, attention_mask=attention_mask).numpy()
    frames = frame_lengths(lengths, model.config).numpy()
    for row, num_frames in enumerate(frames):
        assert_close(ours[row, :num_frames], expected[row, :num_frames].numpy())


def test_base_style_padded_batch_equals_pytorch_on_each_utterance_alone(tmp_path):
    """Group-norm models take no mask in HF, so padding changes their logits; ours masks it away."""
    from tests.support.tiny_models import SMALL_BASE_STYLE

    reference = random_hf_model(seed=5, **SMALL_BASE_STYLE)
    reference.save_pretrained(tmp_path / "base")
    model = Wav2Vec2ForCTC.from_pretrained(tmp_path / "base")

    utterances = [speech_like(1, n, seed=n)[0] for n in (9000, 2500, 6100)]
    processor = Wav2Vec2Processor()
    batch = processor.pad(utterances)
    ours = model(batch.audio, audio_length=batch.audio_length).numpy()
    for row, utterance in enumerate(utterances):
        alone = processor(utterance)[None, :]
        with torch.no_grad():
            expected = reference(torch.from_numpy(alone)).logits[0].numpy()
        assert_close(ours[row, : expected.shape[0]], expected)


def test_save_pretrained_round_trips_through_transformers(tmp_path):
    from transformers import Wav2Vec2ForCTC as HFWav2Vec2ForCTC

    from tests.support.tiny_models import SMALL_BASE_STYLE

    reference = random_hf_model(seed=6, **SMALL_BASE_STYLE)
    reference.save_pretrained(tmp_path / "hf")
    model = Wav2Vec2ForCTC.from_pretrained(tmp_path / "hf")
    model.save_pretrained(tmp_path / "ours")

    reloaded_by_hf = HFWav2Vec2ForCTC.from_pretrained(tmp_path / "ours").eval()
    reloaded_by_us = Wav2Vec2ForCTC.from_pretrained(tmp_path / "ours")
    audio = speech_like(1, 6000, seed=7)
    with torch.no_grad():
        expected = reference(torch.from_numpy(audio)).logits.numpy()
        assert_close(reloaded_by_hf(torch.from_numpy(audio)).logits.numpy(), expected)
    assert_close(reloaded_by_us(audio).numpy(), expected)
