"""`asr convert` turns a hub-style `.bin` checkpoint into safetensors that load to the same logits."""

from __future__ import annotations

import json
import shutil

import numpy as np
import torch

from cli.main import main
from tests.support.hf_checkpoints import random_hf_model, save_hub_style_bin, save_with_transformers
from tests.support.tiny_models import SMALL_BASE_STYLE
from wav2vec2 import Wav2Vec2ForCTC, Wav2Vec2Processor


def test_convert_bin_to_safetensors(tmp_path):
    reference = random_hf_model(seed=3, **SMALL_BASE_STYLE)
    source = save_hub_style_bin(reference, tmp_path / "src")
    Wav2Vec2Processor().save_pretrained(source)

    assert main(["convert", str(source), str(tmp_path / "dst")]) == 0

    written = {p.name for p in (tmp_path / "dst").iterdir()}
    assert {"config.json", "model.safetensors", "vocab.json", "preprocessor_config.json"} <= written
    assert "pytorch_model.bin" not in written
    audio = np.random.default_rng(0).normal(size=(1, 5000)).astype(np.float32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(audio)).logits.numpy()
    np.testing.assert_allclose(Wav2Vec2ForCTC.from_pretrained(tmp_path / "dst")(audio).numpy(), expected, atol=1e-5)


def test_an_unknown_hub_id_is_one_line_not_a_traceback(tmp_path, capsys):
    # The tests run with HF_HUB_OFFLINE=1 (tests/conftest.py): the hub lookup fails as it would offline.
    assert main(["convert", "no-such-org/no-such-model", str(tmp_path / "dst")]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("asr convert: 'no-such-org/no-such-model' is not a local directory")
    assert "Traceback" not in captured.err
    assert not (tmp_path / "dst").exists()


def test_convert_keeps_the_settings_of_a_processor_saved_by_transformers_5(checkpoint, tmp_path):
    source = tmp_path / "src"
    shutil.copytree(checkpoint, source)
    (source / "preprocessor_config.json").unlink()
    save_with_transformers(source, "processor_config.json")

    assert main(["convert", str(source), str(tmp_path / "dst")]) == 0

    written = json.loads((tmp_path / "dst" / "preprocessor_config.json").read_text())
    assert written["do_normalize"] is False and written["padding_value"] == 0.25
