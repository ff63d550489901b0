"""What the trainer asks of a task (`Task`), and what CTC fine-tuning and pretraining build the same way.

tensorflow/models' `official/core` shape: a task is a single-replica view of training (model, inputs, one step's
gradients); the trainer owns the strategy, the loop and the checkpoints, and calls it inside `strategy.run`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import tensorflow as tf

from training.config import TrainConfig
from wav2vec2.checkpoint_model import CheckpointModel
from wav2vec2.config import Wav2Vec2Config
from wav2vec2.lengths import frame_lengths

# (this replica's share of the loss, its gradients of loss × loss scale, metrics to average over replicas)
StepResult = tuple[tf.Tensor, list[tf.Tensor], dict[str, tf.Tensor]]


class Task(Protocol):
    """A single-replica view of one kind of training, run by `training.trainer.Trainer`."""

    def build_model(self) -> CheckpointModel:
        """Returns the model with every weight created (called under `strategy.scope()`)."""

    def build_inputs(
        self, file_pattern: str, training: bool, input_context: tf.distribute.InputContext | None = None
    ) -> tf.data.Dataset:
        """Returns per-replica batches of a split."""

    def on_step_begin(self, model: CheckpointModel, step: int) -> None:
        """Sets what changes with the step outside the optimizer (the Gumbel temperature)."""

    def gradients(
        self, model: CheckpointModel, batch: dict[str, tf.Tensor], global_batch_size: int, loss_scale: tf.Tensor
    ) -> StepResult:
        """Returns one micro-batch's loss share, gradients and metrics on this replica."""

    def save_pretrained(self, model: CheckpointModel, directory: Path) -> None:
        """Writes the model and the files its users read beside it."""


class ModelTask:
    """The parts of a task that do not depend on its loss: the model's start and its frame counts."""

    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        self.model_config: Wav2Vec2Config | None = None

    def build_model(self) -> CheckpointModel:
        """Returns the model with every weight created (call under `strategy.scope()`)."""
        overrides = dict(self.config.config_overrides)
        if self.config.pretrained:
            model = self.pretrained_model(self.config.pretrained, overrides)
        else:
            model_config = Wav2Vec2Config.from_json_file(self.config.model_config)
            model = self.new_model(model_config.replace(**overrides)).build_weights()
        if self.config.freeze_feature_extractor:
            model.freeze_feature_extractor()
        self.model_config = model.config
        return model

    def pretrained_model(self, pretrained: str, overrides: dict[str, object]) -> CheckpointModel:
        """Returns the run's model loaded from a checkpoint."""
        raise NotImplementedError

    def new_model(self, model_config: Wav2Vec2Config) -> CheckpointModel:
        """Returns the run's model, randomly initialised, for a config.json's values."""
        raise NotImplementedError

    def frame_length_fn(self, sample_lengths: tf.Tensor) -> tf.Tensor:
        return frame_lengths(sample_lengths, self.model_config)


def loss_gradients(
    model: CheckpointModel, compute_loss: Callable[[], tf.Tensor], loss_scale: tf.Tensor
) -> tuple[tf.Tensor, list[tf.Tensor]]:
    """Returns `(loss, gradients of loss × loss_scale)` for every trainable variable.

    A variable the loss does not reach (a frozen branch, `masked_spec_embed` without masks) gets zeros, not
    None: the trainer sums micro-batches and replicas element-wise.
    """
    with tf.GradientTape() as tape:
        loss = compute_loss()
        scaled = loss * tf.cast(loss_scale, loss.dtype)
    grads = tape.gradient(scaled, model.trainable_variables)
    grads = [
        tf.zeros_like(v) if g is None else tf.convert_to_tensor(g)
        for g, v in zip(grads, model.trainable_variables, strict=True)
    ]
    return loss, grads
