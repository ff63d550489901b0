"""`asr prepare --audio-dir` then `asr pretrain`: a few XLA-compiled fixed-shape steps end to end, on CPU."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

from cli.main import main

TINY_PRETRAINING_MODEL = {
    "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64,
    "conv_dim": [32] * 3, "conv_kernel": [10, 4, 4], "conv_stride": [5, 4, 4], "num_conv_pos_embeddings": 16,
    "num_conv_pos_embedding_groups": 4,
    "hidden_dropout": 0.0, "attention_dropout": 0.0, "layerdrop": 0.0, "num_codevector_groups": 2,
    "num_codevectors_per_group": 8, "codevector_dim": 16, "proj_codevector_dim": 16, "num_negatives": 5,
}  # fmt: skip


def write_unlabelled_audio(folder: Path, count: int = 6) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for index in range(count):
        t = np.arange(int(16_000 * (0.6 + 0.1 * index))) / 16_000
        audio = 0.4 * np.sin(2 * np.pi * (150 + 40 * index) * t) + 0.05 * rng.standard_normal(t.shape)
        soundfile.write(folder / f"clip{index}.wav", audio.astype(np.float32), 16_000, subtype="PCM_16")


@pytest.mark.slow
def test_prepare_unlabelled_audio_then_pretrain_a_few_compiled_steps(tmp_path: Path, caplog) -> None:
    write_unlabelled_audio(tmp_path / "audio")
    (tmp_path / "model.json").write_text(json.dumps(TINY_PRETRAINING_MODEL))
    prepare = ["prepare", "--audio-dir", str(tmp_path / "audio"), "--out", str(tmp_path / "rec"), "--no-progress"]
    assert main(prepare) == 0

    caplog.set_level("INFO")
    args = [
        "pretrain", "--config", str(tmp_path / "model.json"), "--data", str(tmp_path / "rec" / "*.tfrecord"),
        "--out", str(tmp_path / "run"), "--steps", "3", "--batch-size", "2", "--log-every", "1",
        "--fixed-shape", "--jit", "--no-progress", "--max-duration", "2", "--mask-time-length", "3",
    ]  # fmt: skip
    assert main(args) == 0

    final = tmp_path / "run" / "final"
    config = json.loads((final / "config.json").read_text())
    assert config["architectures"] == ["Wav2Vec2ForPreTraining"]
    assert config["mask_time_prob"] == 0.05  # fine-tuning's SpecAugment value survives the pretraining masks
    assert (final / "model.safetensors").exists() and (final / "preprocessor_config.json").exists()
    logged = caplog.text
    for metric in ("contrastive_loss", "diversity_loss", "codevector_perplexity", "codevector_usage"):
        assert f"{metric} " in logged


def test_pretrain_without_a_model_is_a_usage_error(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["pretrain", "--data", "x", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "--pretrained" in capsys.readouterr().err
