"""Real Hugging Face checkpoints made by the tests: random PyTorch models saved the way the hub stores them."""

from __future__ import annotations

from pathlib import Path

import torch
import transformers


def random_hf_model(seed: int = 0, **config: object) -> transformers.Wav2Vec2ForCTC:
    """A random HF model whose norms and biases are perturbed, so a swapped or skipped weight shows up."""
    torch.manual_seed(seed)
    model = transformers.Wav2Vec2ForCTC(transformers.Wav2Vec2Config(**config)).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.05)
    return model


def save_hub_style_bin(model: transformers.Wav2Vec2ForCTC, directory: Path) -> Path:
    """Saves `config.json` + `pytorch_model.bin` with the legacy `weight_g`/`weight_v` names of hub checkpoints."""
    directory.mkdir(parents=True, exist_ok=True)
    model.config.save_pretrained(directory)
    state = {}
    for name, tensor in model.state_dict().items():
        name = name.replace("parametrizations.weight.original0", "weight_g")
        name = name.replace("parametrizations.weight.original1", "weight_v")
        state[name] = tensor.clone()
    torch.save(state, directory / "pytorch_model.bin")
    return directory
