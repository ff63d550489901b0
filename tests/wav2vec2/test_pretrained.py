"""Checkpoints as users bring them: a body-only `transformers.Wav2Vec2Model` (no `wav2vec2.` prefix, no head)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import transformers

from tests.support.tiny_models import SMALL_BASE_STYLE
from wav2vec2 import Wav2Vec2ForCTC


def test_body_only_transformers_checkpoint_loads_and_warns_about_the_fresh_head(tmp_path):
    torch.manual_seed(0)
    body = transformers.Wav2Vec2Model(transformers.Wav2Vec2Config(**SMALL_BASE_STYLE, vocab_size=12)).eval()
    body.save_pretrained(tmp_path)  # keys like "encoder.layers.0...", without the "wav2vec2." prefix

    with pytest.warns(UserWarning, match="no CTC head .* with 12 tokens") as warned:
        model = Wav2Vec2ForCTC.from_pretrained(tmp_path)
    assert warned[0].filename == __file__  # it points at the user's call, not into the library

    audio = np.random.default_rng(0).normal(size=(1, 6000)).astype(np.float32)
    with torch.no_grad():
        expected = body(torch.from_numpy(audio)).last_hidden_state.numpy()
    np.testing.assert_allclose(model.wav2vec2(audio).numpy(), expected, atol=1e-5)
    assert model(audio).shape[-1] == 12
