"""Real Hugging Face checkpoints made by the tests: random PyTorch models saved the way the hub stores them."""

from __future__ import annotations

from pathlib import Path

import torch
import transformers

SMALL_BASE_STYLE = dict(
    hidden_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=128,
    conv_dim=(32, 32, 32),
    conv_kernel=(10, 3, 3),
    conv_stride=(5, 2, 2),
    num_conv_pos_embeddings=16,
    num_conv_pos_embedding_groups=4,
)
# large-lv60 style: layer norm in every conv block, conv biases, stable pre-LN transformer.
SMALL_LV60_STYLE = dict(SMALL_BASE_STYLE, feat_extract_norm="layer", do_stable_layer_norm=True, conv_bias=True)
# For tests that export and run whole seconds of audio: a conv stack striding 5·4·4 = 80 samples (200 frames/s, the
# real models stride 320) instead of 5·2·2 = 20 gives a quarter of the frames, so attention over the 3 s batch of
# `asr export --verify` costs a sixteenth and the verification about half.
FEWER_FRAMES = dict(conv_kernel=(10, 4, 4), conv_stride=(5, 4, 4))


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
