"""Learning-rate schedule of wav2vec 2.0 fine-tuning: linear warmup, then linear or cosine decay."""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from training.errors import ConfigError

DECAYS = ("linear", "cosine", "constant")


@keras.saving.register_keras_serializable(package="training")
class WarmupDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Returns the learning rate at a step: 0 → peak over `warmup_steps`, then decay to `final_ratio` × peak.

    The decay runs from the end of warmup to `total_steps`; after that the rate stays at its final value.
    """

    def __init__(
        self,
        peak_learning_rate: float,
        warmup_steps: int,
        total_steps: int,
        decay: str = "linear",
        final_ratio: float = 0.0,
    ) -> None:
        if decay not in DECAYS:
            raise ConfigError(f"decay={decay!r} is not one of {DECAYS}")
        if not 0 <= warmup_steps <= total_steps or total_steps < 1:
            raise ConfigError(
                f"need 0 <= warmup_steps <= total_steps, 1 <= total_steps; got {warmup_steps}, {total_steps}"
            )
        self.peak_learning_rate = peak_learning_rate
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps
        self.decay = decay
        self.final_ratio = final_ratio

    def __call__(self, step: tf.Tensor) -> tf.Tensor:
        step = tf.cast(step, tf.float32)
        peak = tf.constant(self.peak_learning_rate, tf.float32)
        warmup = peak * step / max(self.warmup_steps, 1)
        progress = tf.clip_by_value((step - self.warmup_steps) / max(self.total_steps - self.warmup_steps, 1), 0.0, 1.0)
        if self.decay == "linear":
            shape = 1.0 - progress
        elif self.decay == "cosine":
            shape = 0.5 * (1.0 + tf.cos(math.pi * progress))
        else:
            shape = tf.ones_like(progress)
        decayed = peak * (self.final_ratio + (1.0 - self.final_ratio) * shape)
        return tf.where(step < self.warmup_steps, warmup, decayed)

    def get_config(self) -> dict[str, object]:
        return {
            "peak_learning_rate": self.peak_learning_rate,
            "warmup_steps": self.warmup_steps,
            "total_steps": self.total_steps,
            "decay": self.decay,
            "final_ratio": self.final_ratio,
        }
