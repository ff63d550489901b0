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


def save_with_transformers(directory: Path, layout: str) -> None:
    """Saves a `do_normalize=False` processor with the installed transformers, in one of its two layouts."""
    from wav2vec2 import Wav2Vec2Processor

    Wav2Vec2Processor().tokenizer.save_pretrained(directory / "vocab-source")
    feature_extractor = transformers.Wav2Vec2FeatureExtractor(do_normalize=False, padding_value=0.25)
    tokenizer = transformers.Wav2Vec2CTCTokenizer(str(directory / "vocab-source" / "vocab.json"))
    if layout == "processor_config.json":  # transformers 5's Wav2Vec2Processor.save_pretrained
        transformers.Wav2Vec2Processor(feature_extractor=feature_extractor, tokenizer=tokenizer).save_pretrained(
            directory
        )
    else:  # earlier releases' layout, and any release's feature extractor saved on its own
        feature_extractor.save_pretrained(directory)
        tokenizer.save_pretrained(directory)
