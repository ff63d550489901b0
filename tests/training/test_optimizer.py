"""FusedAdamW trains exactly as Keras' AdamW does, with one Adam op per variable."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from training.optimizer import FusedAdamW
from training.schedule import WarmupDecay

SETTINGS = dict(weight_decay=0.01, beta_1=0.9, beta_2=0.98, epsilon=1e-8)


def train(optimizer_class: type[keras.optimizers.Optimizer], steps: int) -> list[np.ndarray]:
    """Returns a small model's weights after `steps` steps of `optimizer_class`, as `training.trainer` builds it.

    (Under MirroredStrategy and MultiWorkerMirroredStrategy: tests/training/test_distributed.py, whose trainer
    runs FusedAdamW.)
    """
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 5)).astype(np.float32)
    y = rng.normal(size=(8, 3)).astype(np.float32)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4), keras.layers.Dense(3)])
    optimizer = optimizer_class(learning_rate=WarmupDecay(1e-2, 2, max(steps, 2), "linear"), **SETTINGS)
    optimizer.exclude_from_weight_decay(var_names=["bias"])

    @tf.function
    def step() -> None:
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x) - y))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))

    for _ in range(steps):
        step()
    return [weight.numpy() for weight in model.weights]


def test_fused_adamw_gives_keras_adamws_weights() -> None:
    expected = train(keras.optimizers.AdamW, steps=6)
    fused = train(FusedAdamW, steps=6)
    start = train(FusedAdamW, steps=0)
    for ours, reference, initial in zip(fused, expected, start, strict=True):
        assert not np.allclose(reference, initial)  # the steps moved every weight
        np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-7)


def test_each_variables_update_is_one_adam_op() -> None:
    """Keras' AdamW writes about ten elementwise ops per variable, each a pass over the weights."""
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4), keras.layers.Dense(3)])
    optimizer = FusedAdamW(learning_rate=1e-3, **SETTINGS)
    optimizer.build(model.trainable_variables)
    grads = [tf.ones_like(weight) for weight in model.trainable_variables]
    update = tf.function(lambda: optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True)))
    op_types = [op.type for op in update.get_concrete_function().graph.get_operations()]
    assert op_types.count("ResourceApplyAdam") == len(model.trainable_variables)
    assert "Sqrt" not in op_types
