"""The one in-process SavedModel client: load an export and call its `logits` signature on a batch.

Blocking and asyncio-free, so the gateway's embedded backend (in its model thread), the CLI, the benchmarks and
the TF Serving stand-in's tests all call the model the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf

from model_export.contract import (
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


class SavedModelClient:
    """A loaded export: its version directory, vocabulary, config, and a blocking `logits_batch`."""

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
        try:
            self._loaded = tf.saved_model.load(str(self.model_dir.path))
        except (OSError, ValueError, tf.errors.OpError) as error:
            raise ExportError(f"cannot load the SavedModel at {self.model_dir.path}: {error}") from error
        self._logits = self._loaded.signatures[LOGITS_SIGNATURE]

    def describe(self, signature_name: str = LOGITS_SIGNATURE) -> tuple[dict, dict]:
        """Return `(inputs, outputs)` of a signature as `{name: {"dtype", "shape"}}`."""
        return describe_signature(self.signature_defs[signature_name])

    def logits_batch(self, utterances: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Return each utterance's logits, `[frames, vocab]` float32, from one zero-padded call."""
        inputs = {name: tf.constant(value) for name, value in batch_inputs(utterances).items()}
        outputs = self._logits(**inputs)
        return split_logits(outputs[LOGITS].numpy(), outputs[LOGIT_LENGTH].numpy())
