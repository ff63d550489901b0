"""The int8 TensorFlow Lite model of an export, run in-process by LiteRT with its XNNPACK delegate.

LiteRT (`ai-edge-litert`) is TensorFlow Lite's runtime package; `tf.lite.Interpreter` is deprecated in its
favour. The flatbuffer has no request checks (`model_export.int8`), so they run here, with the SavedModel's
messages: a caller gets the same `InvalidArgumentError` from either runtime.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

from engine.model_client import ExportedModel
from model_export.contract import AUDIO, LOGIT_LENGTH, LOGITS, LOGITS_SIGNATURE, batch_inputs, split_logits
from model_export.errors import MSG_EMPTY_BATCH, MSG_NOT_FINITE, ExportError


class TFLiteClient(ExportedModel):
    """A loaded int8 export: `model.tflite`'s `logits` signature, one call at a time."""

    runtime = "tensorflow-lite int8"

    def __init__(self, model_path: Path, num_threads: int) -> None:
        super().__init__(model_path)
        path = self.model_dir.tflite_model
        if path is None:
            raise ExportError(f"{self.model_dir.path} has no int8 model; export it with `asr export --precision int8`")
        try:
            self._interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
            self._logits = self._interpreter.get_signature_runner(LOGITS_SIGNATURE)
        except (ValueError, RuntimeError) as error:
            raise ExportError(f"cannot load the TensorFlow Lite model {path}: {error}") from error
        # An interpreter holds one set of tensors: concurrent calls would overwrite each other's inputs.
        self._lock = threading.Lock()

    def logits_batch(self, utterances: Sequence[np.ndarray]) -> list[np.ndarray]:
        if not utterances:
            raise tf.errors.InvalidArgumentError(None, None, MSG_EMPTY_BATCH)
        outputs = self.run_logits(batch_inputs(utterances))
        return split_logits(outputs[LOGITS], outputs[LOGIT_LENGTH])

    def run_logits(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Return the `logits` signature's outputs (`logits`, `logit_length`) for its inputs, padded as they are."""
        if not np.isfinite(inputs[AUDIO]).all():
            raise tf.errors.InvalidArgumentError(None, None, MSG_NOT_FINITE)
        # A new batch shape resizes the interpreter's tensors; chunked transcription repeats a few shapes.
        with self._lock:
            return self._logits(**inputs)
