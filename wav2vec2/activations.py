"""Activation functions by their Hugging Face config names."""

from __future__ import annotations

import math
from collections.abc import Callable

import keras
import tensorflow as tf

_MINUS_INV_SQRT2 = -1.0 / math.sqrt(2.0)
_INV_SQRT_PI = 1.0 / math.sqrt(math.pi)


@tf.custom_gradient
def gelu_with_gradient(x: tf.Tensor) -> tuple[tf.Tensor, Callable[[tf.Tensor], tf.Tensor]]:
    """HF's "gelu", x·Φ(x), in fewer passes over memory than TensorFlow's form, forward and backward: for training.

    `tf.nn.gelu(approximate=False)` is five elementwise ops, and its gradient by autodiff about eight; in the
    feature encoder, whose outputs are the widest tensors, they were a third of a small model's training step
    (bench/train_step.py). This form takes four forward and computes the derivative in closed form from what the
    forward kept. Inference graphs keep `tf.nn.gelu`: oneDNN's remapper fuses it into a preceding MatMul + BiasAdd
    (frame_dense), the custom gradient's IdentityN would hide it, and TensorFlow Lite converts only that form to its
    GELU op. Measured on base inference, 10 s: this form 0.71 s, `tf.nn.gelu` 0.69 s.
    """
    # t = -x/√2; Φ(x) = erfc(t)/2; gelu = x·Φ(x); gelu' = Φ(x) + x·φ(x), with x·φ(x) = -t·exp(-t²)/√π.
    t = x * tf.cast(_MINUS_INV_SQRT2, x.dtype)
    cdf = tf.math.erfc(t) * tf.cast(0.5, x.dtype)

    def gradient(upstream: tf.Tensor) -> tf.Tensor:
        x_pdf = t * tf.exp(-tf.square(t)) * tf.cast(-_INV_SQRT_PI, x.dtype)  # Square→Neg→Exp: one fused op
        return upstream * (cdf + x_pdf)

    return x * cdf, gradient


def get_activation(name: str, training: bool = False) -> Callable[[tf.Tensor], tf.Tensor]:
    """The function HF means by `name`, in its inference or its training form (they differ for "gelu" only).

    "gelu" is the exact erf form (Keras' default gelu is the tanh one).
    """
    exact_gelu = gelu_with_gradient if training else (lambda x: tf.nn.gelu(x, approximate=False))
    functions: dict[str, Callable[[tf.Tensor], tf.Tensor]] = {
        "gelu": exact_gelu,
        "gelu_new": lambda x: keras.ops.gelu(x, approximate=True),
        "relu": keras.ops.relu,
        "swish": keras.ops.silu,
        "silu": keras.ops.silu,
    }
    if name not in functions:
        raise ValueError(f"activation {name!r} is not one of {sorted(functions)}")
    return functions[name]
