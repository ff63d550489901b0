"""The in-process model clients: load an export and call its `logits` signature on a batch.

Blocking and asyncio-free, so the gateway's embedded backend (in its model thread), the CLI, the benchmarks and
the TF Serving stand-in's tests all call the model the same way. `load_model_client` picks the runtime: the int8
TensorFlow Lite model of an `asr export --precision int8` version when it has one, else the SavedModel.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf

from model_export.contract import (
    AUDIO,
    AUDIO_LENGTH,
    CONV_FEATURES_SIGNATURE,
    FEATURE_LENGTH,
    FEATURE_LOGITS_SIGNATURE,
    FEATURES,
    FIRST_FRAME,
    LOGIT_LENGTH,
    LOGITS,
    LOGITS_SIGNATURE,
    batch_inputs,
    describe_signature,
    read_model_config,
    read_signature_defs,
    read_vocab,
    resolve_version_dir,
    split_logits,
)
from model_export.errors import ExportError

logger = logging.getLogger(__name__)


class ExportedModel(ABC):
    """What every client of an export reads beside the model: version directory, signatures, vocabulary, config."""

    runtime = "unknown"  # what runs the logits, for logs and the model card

    def __init__(self, model_path: Path) -> None:
        self.model_dir = resolve_version_dir(Path(model_path))
        self.signature_defs = read_signature_defs(self.model_dir.path)
        if LOGITS_SIGNATURE not in self.signature_defs:
            raise ExportError(
                f"{self.model_dir.path} has no signature {LOGITS_SIGNATURE!r} (it has {sorted(self.signature_defs)}); "
                "re-export it with `asr export`"
            )
        self.vocab = read_vocab(self.model_dir.path)
        self.config = read_model_config(self.model_dir.path)

    def describe(self, signature_name: str = LOGITS_SIGNATURE) -> tuple[dict, dict]:
        """Return `(inputs, outputs)` of a signature as `{name: {"dtype", "shape"}}`."""
        return describe_signature(self.signature_defs[signature_name])

    @abstractmethod
    def logits_batch(self, utterances: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Return each utterance's logits, `[frames, vocab]` float32, from one zero-padded call."""

    @property
    def has_feature_halves(self) -> bool:
        """Whether `conv_features` and `logits_from_features` work: exports older than them, and runtimes
        other than TensorFlow, only have the whole model."""
        return False

    def conv_features(self, audio: np.ndarray, first_frame: int) -> np.ndarray:
        """Return the conv features `[frames - first_frame, conv_dim]` of frames `first_frame`.. of `audio`."""
        raise NotImplementedError(f"{self.runtime} runs the whole model only")

    def logits_from_features(self, features: np.ndarray) -> np.ndarray:
        """Return the logits `[frames, vocab]` of one utterance's conv features `[frames, conv_dim]`."""
        raise NotImplementedError(f"{self.runtime} runs the whole model only")


class SavedModelClient(ExportedModel):
    """A loaded export run by TensorFlow: its SavedModel's `logits` signature."""

    runtime = "tensorflow"

    def __init__(self, model_path: Path) -> None:
        super().__init__(model_path)
        try:
            self._loaded = tf.saved_model.load(str(self.model_dir.path))
        except (OSError, ValueError, tf.errors.OpError) as error:
            raise ExportError(f"cannot load the SavedModel at {self.model_dir.path}: {error}") from error
        self._logits = self._loaded.signatures[LOGITS_SIGNATURE]

    def logits_batch(self, utterances: Sequence[np.ndarray]) -> list[np.ndarray]:
        inputs = {name: tf.constant(value) for name, value in batch_inputs(utterances).items()}
        outputs = self._logits(**inputs)
        return split_logits(outputs[LOGITS].numpy(), outputs[LOGIT_LENGTH].numpy())

    @property
    def has_feature_halves(self) -> bool:
        return {CONV_FEATURES_SIGNATURE, FEATURE_LOGITS_SIGNATURE} <= set(self.signature_defs)

    def conv_features(self, audio: np.ndarray, first_frame: int) -> np.ndarray:
        outputs = self._loaded.signatures[CONV_FEATURES_SIGNATURE](
            **{AUDIO: tf.constant(audio[None]), AUDIO_LENGTH: tf.constant([len(audio)], tf.int32)},
            **{FIRST_FRAME: tf.constant(first_frame, tf.int32)},
        )
        return outputs[FEATURES].numpy()[0, : int(outputs[FEATURE_LENGTH][0])]

    def logits_from_features(self, features: np.ndarray) -> np.ndarray:
        outputs = self._loaded.signatures[FEATURE_LOGITS_SIGNATURE](
            **{FEATURES: tf.constant(features[None]), FEATURE_LENGTH: tf.constant([len(features)], tf.int32)}
        )
        return outputs[LOGITS].numpy()[0]


def load_model_client(model_path: Path, num_threads: int) -> ExportedModel:
    """Return the int8 TensorFlow Lite client if the export has `model.tflite`, else the SavedModel client.

    `num_threads` sizes TensorFlow Lite's pool (TensorFlow's own pools are set before the runtime starts, see
    `engine.thread_pools`).
    """
    if resolve_version_dir(Path(model_path)).tflite_model is not None:
        from engine.tflite_client import TFLiteClient

        client: ExportedModel = TFLiteClient(model_path, num_threads)
    else:
        client = SavedModelClient(model_path)
    logger.info("model %s runs on %s", client.model_dir.path, client.runtime)
    return client
