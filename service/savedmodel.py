"""The SavedModel side of the serving contract: TF Serving's directory layout, signatures, input tensors.

Shared by the embedded backend, the gRPC backend and the TF Serving stand-in, so all three agree on
which version a directory means and on how a batch of utterances becomes `audio` / `audio_length`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2

from service.core.errors import ModelLoadError

SAVED_MODEL_FILE = "saved_model.pb"
VOCAB_ASSET = "vocab.json"
GREEDY_DECODER = "greedy CTC in the SavedModel graph"


@dataclass(frozen=True)
class ModelVersionDir:
    """One loadable SavedModel: its directory and the version number TF Serving would give it."""

    path: Path
    version: int


@dataclass(frozen=True)
class ModelInfo:
    """What `GET /v1/models` reports about the served model."""

    name: str
    version: int | None
    signature_name: str
    inputs: dict[str, dict[str, object]]
    outputs: dict[str, dict[str, object]]
    sample_rate_hz: int
    vocab: list[str] | None = field(default=None)
    decoder: str = GREEDY_DECODER


def resolve_version_dir(model_path: Path) -> ModelVersionDir:
    """Return the SavedModel under `model_path`: the dir itself, or its highest numbered version (TF Serving's rule)."""
    if (model_path / SAVED_MODEL_FILE).is_file():
        version = int(model_path.name) if model_path.name.isdigit() else 0
        return ModelVersionDir(model_path, version)
    versions = (
        sorted(
            (int(child.name), child)
            for child in model_path.iterdir()
            if child.name.isdigit() and (child / SAVED_MODEL_FILE).is_file()
        )
        if model_path.is_dir()
        else []
    )
    if not versions:
        raise ModelLoadError(
            f"no SavedModel at {model_path}: expected {SAVED_MODEL_FILE} there or in a numbered "
            f"version subdirectory (TF Serving layout NAME/1/)"
        )
    version, path = versions[-1]
    return ModelVersionDir(path, version)


def read_signature_defs(version_dir: Path) -> dict[str, meta_graph_pb2.SignatureDef]:
    """Return the signatures of the serving MetaGraph in `version_dir/saved_model.pb`."""
    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString((version_dir / SAVED_MODEL_FILE).read_bytes())
    for meta_graph in saved_model.meta_graphs:
        if "serve" in meta_graph.meta_info_def.tags:
            return dict(meta_graph.signature_def)
    raise ModelLoadError(f"{version_dir} has no MetaGraph tagged 'serve'")


def describe_signature(signature: meta_graph_pb2.SignatureDef) -> tuple[dict, dict]:
    """Return `(inputs, outputs)` as `{name: {"dtype", "shape"}}`, shape dims `None` where unknown."""

    def describe(tensors: dict[str, meta_graph_pb2.TensorInfo]) -> dict[str, dict[str, object]]:
        return {
            name: {
                "dtype": types_pb2.DataType.Name(info.dtype).removeprefix("DT_").lower(),
                "shape": None
                if info.tensor_shape.unknown_rank
                else [dim.size if dim.size >= 0 else None for dim in info.tensor_shape.dim],
            }
            for name, info in sorted(tensors.items())
        }

    return describe(signature.inputs), describe(signature.outputs)


def read_vocab(version_dir: Path) -> list[str] | None:
    """Return the CTC vocabulary in id order from `assets/vocab.json`, or None if the export has none."""
    vocab_file = version_dir / "assets" / VOCAB_ASSET
    return read_vocab_file(vocab_file) if vocab_file.is_file() else None


def read_vocab_file(vocab_file: Path) -> list[str]:
    """Return the tokens of a `vocab.json` (token -> id, the HF tokenizer's file) in id order."""
    token_to_id: dict[str, int] = json.loads(vocab_file.read_text(encoding="utf-8"))
    return [token for token, _ in sorted(token_to_id.items(), key=lambda item: item[1])]


def pad_batch(utterances: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Return `(audio [batch, samples] float32 zero-padded, audio_length [batch] int32)` for the signature."""
    audio_length = np.array([len(samples) for samples in utterances], dtype=np.int32)
    audio = np.zeros((len(utterances), int(audio_length.max(initial=0))), dtype=np.float32)
    for row, samples in enumerate(utterances):
        audio[row, : len(samples)] = samples
    return audio, audio_length
