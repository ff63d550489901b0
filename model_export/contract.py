"""The export contract: what a served SavedModel looks like to everyone who writes, serves or calls it.

One home for the names and the layout that `model_export/` writes and that the gateway, the CLI, the TF Serving
client and the TF Serving stand-in read: signature and tensor names, TF Serving's `NAME/VERSION/` folder layout,
the assets a client may read (vocabulary, model config, an optional language model), and how a batch of
utterances becomes the `audio` / `audio_length` inputs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from model_export.errors import ExportError
from wav2vec2.config import Wav2Vec2Config

if TYPE_CHECKING:
    from tensorflow.core.protobuf import meta_graph_pb2

# TensorFlow (its protos, and the padding beside its feature extractor) is imported inside the functions that
# need it: finding a model's version directory and its names stays TF-free, so docker/export-once.sh copies the
# bundled model in well under a second instead of starting TensorFlow for it.

# Signatures (model_export/README.md): greedy CTC in the graph, WAV bytes in, and raw logits for decoders outside.
SERVING_SIGNATURE = "serving_default"
TRANSCRIBE_WAV_SIGNATURE = "transcribe_wav"
LOGITS_SIGNATURE = "logits"
# Optional (exports made before them lack them): the model in two halves, so a live stream keeps the conv features
# of the audio it has encoded and encodes only new audio each hop (service/streaming/feature_cache.py).
CONV_FEATURES_SIGNATURE = "conv_features"
FEATURE_LOGITS_SIGNATURE = "logits_from_features"

# Tensor names of the signatures' inputs and outputs.
AUDIO = "audio"  # [batch, samples] float32, 16 kHz mono, zero-padded
AUDIO_LENGTH = "audio_length"  # [batch] int32, valid samples per row
WAV = "wav"  # [batch] string, WAV file bytes
LOGITS = "logits"  # [batch, frames, vocab] float32
LOGIT_LENGTH = "logit_length"  # [batch] int32, valid frames per row
TRANSCRIPT = "transcript"  # [batch] string
FIRST_FRAME = "first_frame"  # [] int32, the first conv frame `conv_features` returns
FEATURES = "features"  # [batch, frames, conv_dim[-1]] float32, the conv feature encoder's output
FEATURE_LENGTH = "feature_length"  # [batch] int32, valid feature frames per row

# The folder layout: TF Serving loads `NAME/VERSION/saved_model.pb`; clients read the assets beside it.
SAVED_MODEL_FILE = "saved_model.pb"
# An int8 export (`asr export --precision int8`) adds the `logits` signature as a TensorFlow Lite model under the
# name TF Serving's `--prefer_tflite_model` flag loads instead of the SavedModel beside it.
TFLITE_FILE = "model.tflite"
VOCAB_ASSET = "assets/vocab.json"
CONFIG_ASSET = "assets/config.json"
# A language model built for this model's vocabulary (`asr lm build`) may travel inside the version directory,
# so every copy of the model (export-once, a compose volume, a Kubernetes volume) carries it. TF Serving reads
# nothing in `assets.extra/` but its warmup file.
LANGUAGE_MODEL_DIR = "assets.extra/lm"

__all__ = [
    "AUDIO",
    "AUDIO_LENGTH",
    "CONV_FEATURES_SIGNATURE",
    "FEATURES",
    "FEATURE_LENGTH",
    "FEATURE_LOGITS_SIGNATURE",
    "FIRST_FRAME",
    "LANGUAGE_MODEL_DIR",
    "LOGITS",
    "LOGITS_SIGNATURE",
    "LOGIT_LENGTH",
    "ModelVersionDir",
    "SERVING_SIGNATURE",
    "TRANSCRIBE_WAV_SIGNATURE",
    "TFLITE_FILE",
    "TRANSCRIPT",
    "WAV",
    "batch_inputs",
    "describe_signature",
    "read_model_config",
    "read_signature_defs",
    "read_vocab",
    "read_vocab_file",
    "resolve_version_dir",
    "split_logits",
]


@dataclass(frozen=True)
class ModelVersionDir:
    """One loadable SavedModel: its directory and the version number TF Serving would give it."""

    path: Path
    version: int

    @property
    def tflite_model(self) -> Path | None:
        """Return the int8 TensorFlow Lite model of this version (`asr export --precision int8`), or None."""
        path = self.path / TFLITE_FILE
        return path if path.is_file() else None

    @property
    def language_model_dir(self) -> Path | None:
        """Return the language model that travels with this model version, or None."""
        lm_dir = self.path / LANGUAGE_MODEL_DIR
        return lm_dir if lm_dir.is_dir() else None


def resolve_version_dir(model_path: Path) -> ModelVersionDir:
    """Return the SavedModel under `model_path`: the dir itself, or its highest numbered version (TF Serving's rule)."""
    model_path = Path(model_path)
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
        raise ExportError(
            f"no SavedModel at {model_path}: expected {SAVED_MODEL_FILE} there or in a numbered "
            f"version subdirectory (TF Serving layout NAME/1/)"
        )
    version, path = versions[-1]
    return ModelVersionDir(path, version)


def read_signature_defs(version_dir: Path) -> dict[str, meta_graph_pb2.SignatureDef]:
    """Return the signatures of the serving MetaGraph in `version_dir/saved_model.pb`."""
    from tensorflow.core.protobuf import saved_model_pb2

    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString((Path(version_dir) / SAVED_MODEL_FILE).read_bytes())
    for meta_graph in saved_model.meta_graphs:
        if "serve" in meta_graph.meta_info_def.tags:
            return dict(meta_graph.signature_def)
    raise ExportError(f"{version_dir} has no MetaGraph tagged 'serve'")


def describe_signature(signature: meta_graph_pb2.SignatureDef) -> tuple[dict, dict]:
    """Return `(inputs, outputs)` as `{name: {"dtype", "shape"}}`, shape dims `None` where unknown.

    `signature` may come from TensorFlow's protos or from `model_export.serving_api` (the TF-free gateway's): the
    dtype's name is read from the message's own `DataType` enum, so neither needs the other.
    """

    def describe(tensors: dict[str, meta_graph_pb2.TensorInfo]) -> dict[str, dict[str, object]]:
        return {
            name: {
                "dtype": _dtype_name(info).removeprefix("DT_").lower(),
                "shape": None
                if info.tensor_shape.unknown_rank
                else [dim.size if dim.size >= 0 else None for dim in info.tensor_shape.dim],
            }
            for name, info in sorted(tensors.items())
        }

    return describe(signature.inputs), describe(signature.outputs)


def _dtype_name(info: meta_graph_pb2.TensorInfo) -> str:
    return info.DESCRIPTOR.fields_by_name["dtype"].enum_type.values_by_number[info.dtype].name


def read_vocab(version_dir: Path) -> list[str] | None:
    """Return the CTC vocabulary in id order from `assets/vocab.json`, or None if the export has none."""
    vocab_file = Path(version_dir) / VOCAB_ASSET
    return read_vocab_file(vocab_file) if vocab_file.is_file() else None


def read_vocab_file(vocab_file: Path) -> list[str]:
    """Return the tokens of a `vocab.json` (token -> id, the HF tokenizer's file) in id order."""
    token_to_id: dict[str, int] = json.loads(Path(vocab_file).read_text(encoding="utf-8"))
    return [token for token, _ in sorted(token_to_id.items(), key=lambda item: item[1])]


def read_model_config(version_dir: Path) -> Wav2Vec2Config:
    """Return the exported model's config (its conv strides give the frame rate that word times need)."""
    config_file = Path(version_dir) / CONFIG_ASSET
    if not config_file.is_file():
        raise ExportError(f"{version_dir} has no {CONFIG_ASSET}: export it with `asr export` to get one")
    return Wav2Vec2Config.from_json_file(config_file)


def batch_inputs(utterances: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """Return the `audio` / `audio_length` inputs of a signature call for `utterances` (zero-padded)."""
    from wav2vec2.feature_extractor import pad_batch

    audio, audio_length = pad_batch(utterances)
    return {AUDIO: audio, AUDIO_LENGTH: audio_length}


def split_logits(logits: np.ndarray, logit_length: np.ndarray) -> list[np.ndarray]:
    """Return each row's valid logits, `[frames, vocab]`, from a padded `logits` signature output."""
    return [row[: int(length)] for row, length in zip(logits, logit_length, strict=True)]
