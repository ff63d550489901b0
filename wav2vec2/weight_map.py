"""The one explicit map between Hugging Face PyTorch parameter names and our Keras weights."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import keras
import numpy as np

# How a PyTorch tensor becomes a Keras weight, and back: (to Keras, to PyTorch) for each transform name.
#   "copy"   same layout (biases, norms, masked_spec_embed)
#   "linear" torch Linear (out, in)            ↔ Keras Dense (in, out)
#   "conv"   torch Conv1d (out, in, k)         ↔ Keras Conv1D (k, in, out)
#   "pos_g"  torch weight_norm g (1, 1, k)     ↔ ours (k,)
LAYOUT_CHANGES: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "copy": (lambda array: array, lambda array: array),
    "linear": (np.transpose, np.transpose),
    "conv": (lambda array: np.transpose(array, (2, 1, 0)), lambda array: np.transpose(array, (2, 1, 0))),
    "pos_g": (lambda array: array.reshape(-1), lambda array: array.reshape(1, 1, -1)),
}
TRANSFORMS = tuple(LAYOUT_CHANGES)


@dataclass(frozen=True)
class WeightEntry:
    hf_name: str
    variable: keras.Variable
    transform: str
    # Absent from hub checkpoints (masked_spec_embed) or from pretraining-only ones (lm_head): keep the init.
    optional: bool = False


def _layout_change(transform: str, direction: int) -> Callable[[np.ndarray], np.ndarray]:
    if transform not in LAYOUT_CHANGES:
        raise ValueError(f"unknown transform {transform!r}; expected one of {TRANSFORMS}")
    return LAYOUT_CHANGES[transform][direction]


def to_keras(array: np.ndarray, transform: str) -> np.ndarray:
    return _layout_change(transform, 0)(array)


def to_torch_layout(array: np.ndarray, transform: str) -> np.ndarray:
    return _layout_change(transform, 1)(array)


def dense_entries(prefix: str, layer: keras.layers.Dense) -> Iterator[WeightEntry]:
    yield WeightEntry(f"{prefix}.weight", layer.kernel, "linear")
    yield WeightEntry(f"{prefix}.bias", layer.bias, "copy")


def _norm(prefix: str, layer: keras.layers.Layer) -> Iterator[WeightEntry]:
    yield WeightEntry(f"{prefix}.weight", layer.gamma, "copy")
    yield WeightEntry(f"{prefix}.bias", layer.beta, "copy")


def weight_entries(model: keras.Model) -> list[WeightEntry]:
    """Every weight of a built `CheckpointModel` with its HF name (new-style weight-norm names): the body's,
    then its head's (the CTC head, or the quantizer and projections)."""
    return body_weight_entries(model.body()) + model.head_weight_entries()


def body_weight_entries(body: keras.Model) -> list[WeightEntry]:
    """Every weight of a built `Wav2Vec2Model`, named as inside HF's task models (`wav2vec2.` prefix)."""
    entries: list[WeightEntry] = [
        WeightEntry("wav2vec2.masked_spec_embed", body.masked_spec_embed, "copy", optional=True)
    ]
    for index, block in enumerate(body.feature_extractor.conv_layers):
        prefix = f"wav2vec2.feature_extractor.conv_layers.{index}"
        entries.append(WeightEntry(f"{prefix}.conv.weight", block.conv.kernel, "conv"))
        if block.use_bias:
            entries.append(WeightEntry(f"{prefix}.conv.bias", block.conv.bias, "copy"))
        if block.layer_norm is not None:
            entries.extend(_norm(f"{prefix}.layer_norm", block.layer_norm))
    projection = body.feature_projection
    entries.extend(_norm("wav2vec2.feature_projection.layer_norm", projection.layer_norm))
    entries.extend(dense_entries("wav2vec2.feature_projection.projection", projection.projection))
    encoder = body.encoder
    pos = encoder.pos_conv_embed
    entries += [
        WeightEntry("wav2vec2.encoder.pos_conv_embed.conv.parametrizations.weight.original0", pos.weight_g, "pos_g"),
        WeightEntry("wav2vec2.encoder.pos_conv_embed.conv.parametrizations.weight.original1", pos.weight_v, "conv"),
        WeightEntry("wav2vec2.encoder.pos_conv_embed.conv.bias", pos.bias, "copy"),
    ]
    entries.extend(_norm("wav2vec2.encoder.layer_norm", encoder.layer_norm))
    for index, layer in enumerate(encoder.layers):
        prefix = f"wav2vec2.encoder.layers.{index}"
        for projection_name in ("q_proj", "k_proj", "v_proj", "out_proj"):
            entries.extend(
                dense_entries(f"{prefix}.attention.{projection_name}", getattr(layer.attention, projection_name))
            )
        entries.extend(_norm(f"{prefix}.layer_norm", layer.layer_norm))
        entries.extend(
            dense_entries(f"{prefix}.feed_forward.intermediate_dense", layer.feed_forward.intermediate_dense)
        )
        entries.extend(dense_entries(f"{prefix}.feed_forward.output_dense", layer.feed_forward.output_dense))
        entries.extend(_norm(f"{prefix}.final_layer_norm", layer.final_layer_norm))
    return entries


# Older checkpoints (all hub wav2vec2 models, fairseq conversions) name the weight-norm parts g and v.
LEGACY_NAMES = {
    "parametrizations.weight.original0": "weight_g",
    "parametrizations.weight.original1": "weight_v",
}


def canonical_name(hf_name: str) -> str:
    """The new-style name for a legacy `weight_g`/`weight_v` name; other names unchanged."""
    for new, old in LEGACY_NAMES.items():
        if hf_name.endswith("." + old):
            return hf_name[: -len(old)] + new
    return hf_name
