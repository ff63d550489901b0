"""Which runtime a graph is traced for: TensorFlow's own kernels (the default) or TensorFlow Lite's builtin ops.

Attention over long inputs picks per-head products with a `tf.cond` (attention.py), and XNNPACK, which runs the
int8 model, delegates no control flow. The int8 export traces the model inside `tflite_builtins()`; every other graph
(SavedModel, training, eager calls) gets TensorFlow's form. Both compute the same function, to float rounding.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

_FOR_TFLITE = contextvars.ContextVar("wav2vec2_graph_for_tflite", default=False)


@contextlib.contextmanager
def tflite_builtins() -> Iterator[None]:
    """Inside it, the layers trace the forms TensorFlow Lite converts to its builtin ops."""
    token = _FOR_TFLITE.set(True)
    try:
        yield
    finally:
        _FOR_TFLITE.reset(token)


def for_tflite() -> bool:
    """Whether the graph being traced is for TensorFlow Lite (inside `tflite_builtins`)."""
    return _FOR_TFLITE.get()
