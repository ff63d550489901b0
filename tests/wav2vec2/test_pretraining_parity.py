"""Wav2Vec2ForPreTraining equals transformers' on random real checkpoints, given the same masks and negatives."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import transformers
from transformers.models.wav2vec2.modeling_wav2vec2 import _compute_mask_indices, _sample_negative_indices

from tests.support.tiny_models import SMALL_BASE_STYLE, SMALL_LV60_STYLE
from wav2vec2 import Wav2Vec2ForCTC, Wav2Vec2ForPreTraining, Wav2Vec2Model

TOLERANCE = 1e-5
# Small codebooks so that a batch of a few hundred frames uses many entries (and collisions happen).
SMALL_QUANTIZER = dict(
    num_codevector_groups=2, num_codevectors_per_group=8, codevector_dim=16, proj_codevector_dim=12, num_negatives=5,
    mask_time_prob=0.65, mask_time_length=4, diversity_loss_weight=0.1,
)  # fmt: skip


def assert_close(ours: np.ndarray | float, reference: np.ndarray | float, name: str) -> None:
    """max |Δ| ≤ 1e-5 relative to max(1, max |reference|)."""
    ours, reference = np.asarray(ours), np.asarray(reference)
    assert ours.shape == reference.shape, name
    scale = max(1.0, float(np.abs(reference).max()))
    error = float(np.abs(ours - reference).max()) / scale
    assert error <= TOLERANCE, f"{name}: max relative |Δ| = {error:.2e} > {TOLERANCE:.0e}"


def random_hf_pretraining_model(seed: int, **config: object) -> transformers.Wav2Vec2ForPreTraining:
    """A random HF pretraining model, eval mode (argmax quantization), with perturbed norms and biases."""
    torch.manual_seed(seed)
    model = transformers.Wav2Vec2ForPreTraining(transformers.Wav2Vec2Config(**config)).eval()
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "codevectors" not in name:
                parameter.add_(torch.randn_like(parameter) * 0.05)
    return model


def speech_like(batch: int, samples: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(samples) / 16000.0
    tone = np.sin(2 * np.pi * rng.uniform(100, 400, (batch, 1)) * t)
    return (tone + 0.3 * rng.standard_normal((batch, samples))).astype(np.float32)


def hf_masks(reference, batch: int, samples: int, attention_mask=None, seed: int = 0):
    np.random.seed(seed)
    frames = int(reference._get_feat_extract_output_lengths(samples))
    sub_mask = None
    if attention_mask is not None:
        sub_mask = reference._get_feature_vector_attention_mask(frames, torch.from_numpy(attention_mask))
    config = reference.config
    mask = _compute_mask_indices((batch, frames), config.mask_time_prob, config.mask_time_length, sub_mask, 2)
    negatives = _sample_negative_indices((batch, frames), config.num_negatives, mask)
    return mask, negatives


def compare(reference, model, audio, mask, negatives, attention_mask=None) -> None:
    with torch.no_grad():
        expected = reference(
            torch.from_numpy(audio),
            attention_mask=None if attention_mask is None else torch.from_numpy(attention_mask),
            mask_time_indices=torch.from_numpy(mask),
            sampled_negative_indices=torch.from_numpy(negatives).long(),
        )
    outputs = model(audio, attention_mask=attention_mask, mask_time_indices=mask, training=False)
    losses = model.compute_pretraining_loss(outputs, mask, negatives)
    for name in ("projected_states", "projected_quantized_states"):
        assert_close(outputs[name].numpy(), getattr(expected, name).numpy(), name)
    assert_close(outputs["codevector_perplexity"].numpy(), expected.codevector_perplexity.numpy(), "perplexity")
    assert_close(losses.contrastive_loss.numpy(), expected.contrastive_loss.numpy(), "contrastive_loss")
    assert_close(losses.diversity_loss.numpy(), expected.diversity_loss.numpy(), "diversity_loss")
    assert_close(losses.loss.numpy(), expected.loss.numpy(), "loss")
    assert np.isfinite(float(losses.loss))


@pytest.mark.parametrize("style", ["base", "lv60"])
def test_pretraining_outputs_and_losses_match_transformers(tmp_path, style):
    structure = SMALL_BASE_STYLE if style == "base" else SMALL_LV60_STYLE
    reference = random_hf_pretraining_model(seed=11, **structure, **SMALL_QUANTIZER)
    reference.save_pretrained(tmp_path / style)
    model = Wav2Vec2ForPreTraining.from_pretrained(tmp_path / style)

    audio = speech_like(3, 9000, seed=1)
    mask, negatives = hf_masks(reference, 3, 9000, seed=2)
    assert mask.mean() > 0.3
    compare(reference, model, audio, mask, negatives)


def test_lv60_style_with_attention_mask_matches_transformers(tmp_path):
    reference = random_hf_pretraining_model(seed=12, **SMALL_LV60_STYLE, **SMALL_QUANTIZER)
    reference.save_pretrained(tmp_path / "lv60")
    model = Wav2Vec2ForPreTraining.from_pretrained(tmp_path / "lv60")

    lengths = np.array([9000, 5000, 7100])
    audio = speech_like(3, 9000, seed=3) * (np.arange(9000)[None, :] < lengths[:, None])
    attention_mask = (np.arange(9000)[None, :] < lengths[:, None]).astype(np.int32)
    mask, negatives = hf_masks(reference, 3, 9000, attention_mask, seed=4)
    compare(reference, model, audio.astype(np.float32), mask, negatives, attention_mask)


def test_save_reloads_in_transformers_and_ctc_fine_tuning_starts_from_it(tmp_path):
    reference = random_hf_pretraining_model(seed=13, **SMALL_BASE_STYLE, **SMALL_QUANTIZER)
    reference.save_pretrained(tmp_path / "hf")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Keras warned that it marked the model built without building it
        model = Wav2Vec2ForPreTraining.from_pretrained(tmp_path / "hf")
    model.save_pretrained(tmp_path / "ours")

    reloaded = transformers.Wav2Vec2ForPreTraining.from_pretrained(tmp_path / "ours").eval()
    audio = speech_like(2, 9000, seed=5)
    mask, negatives = hf_masks(reference, 2, 9000, seed=6)
    compare(reloaded, model, audio, mask, negatives)
    hf_state, reloaded_state = reference.state_dict(), reloaded.state_dict()
    for name, tensor in hf_state.items():
        torch.testing.assert_close(reloaded_state[name], tensor, rtol=0, atol=0, msg=name)

    # Fine-tuning starts from every encoder weight of the pretraining checkpoint (ours and transformers').
    ctc = Wav2Vec2ForCTC.from_pretrained(tmp_path / "ours", vocab_size=7)
    hf_ctc = transformers.Wav2Vec2ForCTC.from_pretrained(tmp_path / "ours", vocab_size=7).eval()
    with torch.no_grad():
        expected_hidden = hf_ctc.wav2vec2(torch.from_numpy(audio)).last_hidden_state.numpy()
        body_state = reference.wav2vec2.state_dict()
        for name, tensor in hf_ctc.wav2vec2.state_dict().items():
            torch.testing.assert_close(tensor, body_state[name], rtol=0, atol=0, msg=name)
    assert_close(ctc.wav2vec2(audio).numpy(), expected_hidden, "CTC body hidden states")


def test_hub_style_bin_with_legacy_weight_norm_names_loads(tmp_path):
    """facebook/wav2vec2-base ships `pytorch_model.bin` with `weight_g`/`weight_v` and a quantizer."""
    from tests.support.hf_checkpoints import save_hub_style_bin

    reference = random_hf_pretraining_model(seed=14, **SMALL_BASE_STYLE, **SMALL_QUANTIZER)
    directory = save_hub_style_bin(reference, tmp_path / "base")
    model = Wav2Vec2ForPreTraining.from_pretrained(directory)
    audio = speech_like(2, 7000, seed=8)
    mask, negatives = hf_masks(reference, 2, 7000, seed=9)
    compare(reference, model, audio, mask, negatives)


def test_the_body_takes_pretrainings_masks_as_transformers_wav2vec2model_does(tmp_path):
    reference = random_hf_pretraining_model(5, **SMALL_BASE_STYLE, **SMALL_QUANTIZER)
    reference.wav2vec2.save_pretrained(tmp_path)  # transformers.Wav2Vec2Model: the body alone
    body = Wav2Vec2Model.from_pretrained(tmp_path)
    audio = speech_like(2, 4000)
    mask, _ = hf_masks(reference, 2, 4000)

    with torch.no_grad():
        expected = reference.wav2vec2(torch.from_numpy(audio), mask_time_indices=torch.from_numpy(mask))
    outputs = body.encode(audio, mask_time_indices=mask)
    assert_close(outputs.last_hidden_state.numpy(), expected.last_hidden_state.numpy(), "last_hidden_state")
    assert_close(outputs.extract_features.numpy(), expected.extract_features.numpy(), "extract_features")
    assert_close(body(audio, mask_time_indices=mask).numpy(), expected.last_hidden_state.numpy(), "call")
