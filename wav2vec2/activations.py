"""Activation functions by their Hugging Face config names."""

from __future__ import annotations

from collections.abc import Callable

import keras
import tensorflow as tf


def get_activation(name: str) -> Callable[[tf.Tensor], tf.Tensor]:
    """The function HF means by `name`; "gelu" is the exact erf form (Keras' default gelu is the tanh one)."""
    functions: dict[str, Callable[[tf.Tensor], tf.Tensor]] = {
        "gelu": lambda x: keras.ops.gelu(x, approximate=False),
        "gelu_new": lambda x: keras.ops.gelu(x, approximate=True),
        "relu": keras.ops.relu,
        "swish": keras.ops.silu,
        "silu": keras.ops.silu,
    }
    if name not in functions:
        raise ValueError(f"activation {name!r} is not one of {sorted(functions)}")
    return functions[name]
