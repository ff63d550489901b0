"""The training form of GELU (closed-form gradient) computes what TensorFlow's exact GELU and its autodiff compute."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from wav2vec2.activations import get_activation


@pytest.mark.parametrize("dtype", [tf.float32, tf.bfloat16])
def test_training_gelu_matches_tensorflow_gelu_and_its_gradient(dtype: tf.DType) -> None:
    x = tf.cast(tf.random.stateless_normal([4096], seed=[0, 1]) * 4.0, dtype)
    upstream = tf.cast(tf.random.stateless_normal([4096], seed=[2, 3]), dtype)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        ours = get_activation("gelu", training=True)(x)
        reference = get_activation("gelu")(x)  # tf.nn.gelu(approximate=False)
    tolerance = 1e-6 if dtype == tf.float32 else 2e-2
    np.testing.assert_allclose(tf.cast(ours, tf.float32), tf.cast(reference, tf.float32), atol=tolerance)
    ours_gradient = tape.gradient(ours, x, output_gradients=upstream)
    reference_gradient = tape.gradient(reference, x, output_gradients=upstream)
    assert ours_gradient.dtype == dtype
    np.testing.assert_allclose(
        tf.cast(ours_gradient, tf.float32), tf.cast(reference_gradient, tf.float32), atol=tolerance, rtol=tolerance
    )
