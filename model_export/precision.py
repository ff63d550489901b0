"""The numeric precision of an export: the model rebuilt under a Keras dtype policy, weights copied over.

`float32` is the model as trained. `bfloat16` rebuilds it under Keras' `mixed_bfloat16` policy: variables stay
float32 (the SavedModel stores the checkpoint's exact weights), matmuls and convolutions run in bfloat16, and the
numerically sensitive steps stay float32 because the `wav2vec2` layers cast them explicitly (per-channel group
norm statistics, the attention softmax, the positional-conv weight norm, the logits). The policy is traced into
the graph, so the embedded gateway and TensorFlow Serving run the same bfloat16 ops with no serving flag.

Whether bfloat16 is *faster* depends on the CPU: with AVX512-BF16 or AMX, oneDNN runs bfloat16 matmuls natively;
without them (AVX2-only CPUs) TensorFlow falls back to kernels that convert element by element, and the export
is correct but slower than float32 (model_export/README.md, "Precision", has the measurements).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import keras

from model_export.errors import ExportError
from wav2vec2.model import Wav2Vec2ForCTC

# `asr export --precision` value -> the Keras dtype policy the model is rebuilt under. An int8 export is the
# float32 SavedModel plus an int8 TensorFlow Lite model converted from it (`model_export.int8`).
INT8 = "int8"
PRECISION_POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16", INT8: "float32"}
PRECISIONS = tuple(PRECISION_POLICIES)


@contextlib.contextmanager
def global_dtype_policy(policy: str) -> Iterator[None]:
    """Sets Keras' global dtype policy for the layers built inside the block, then restores the previous one.

    Keras 3 layers take their policy from the global one when constructed (a parent's `dtype=` does not reach
    the sublayers it builds), so rebuilding under a global policy is the one way to reach every layer.
    """
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def compute_dtype(model: Wav2Vec2ForCTC) -> str:
    """Returns the dtype the model's matmuls run in ("float32" or "bfloat16")."""
    return model.lm_head.compute_dtype


def with_precision(model: Wav2Vec2ForCTC, precision: str) -> Wav2Vec2ForCTC:
    """Returns `model` itself for float32, else a copy built under `precision`'s policy with the same weights."""
    if precision not in PRECISION_POLICIES:
        raise ExportError(f"precision {precision!r} is not one of {PRECISIONS}")
    model.build_weights()
    policy = PRECISION_POLICIES[precision]
    if model.dtype_policy.name == policy:
        return model
    with global_dtype_policy(policy):
        copy = Wav2Vec2ForCTC(model.config, name=model.name)
        copy.build_weights()
    source_paths = [variable.path for variable in model.weights]
    copy_paths = [variable.path for variable in copy.weights]
    if source_paths != copy_paths:  # both are built by the same code, so this would be a bug in the model
        raise ExportError(f"the {precision} rebuild has other weights than the model: {copy_paths} vs {source_paths}")
    copy.set_weights(model.get_weights())
    return copy
