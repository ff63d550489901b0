"""PretrainTask: a single-replica view of wav2vec 2.0 self-supervised pretraining on unlabelled audio.

Each step draws its masks (`compute_span_mask`, HF's `_compute_mask_indices` semantics) and distractors
(`sample_negative_indices`) inside the graph, so a compiled step draws new ones every time. The loss is
normalised as HF's pretraining script does: the summed contrastive + diversity loss divided by the number of
masked frames of the whole global batch (all replicas).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import tensorflow as tf

from training.base_task import ModelTask, loss_gradients
from training.config import TrainConfig
from training.data.pipeline import build_dataset
from training.task import train_input_config
from wav2vec2 import (
    Wav2Vec2Config,
    Wav2Vec2FeatureExtractor,
    Wav2Vec2ForPreTraining,
    compute_span_mask,
    normalize_audio,
    sample_negative_indices,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GumbelSchedule:
    """Returns the Gumbel-softmax temperature at a step: max × decay^step, floored at min (paper: 2 → 0.5)."""

    max_temperature: float = 2.0
    min_temperature: float = 0.5
    decay: float = 0.999995

    def __call__(self, step: int) -> float:
        return max(self.max_temperature * self.decay**step, self.min_temperature)


def codevector_usage(ids: tf.Tensor, frame_mask: tf.Tensor, num_vars: int) -> tf.Tensor:
    """Fraction of all G × V codewords chosen at least once over the valid frames of a batch.

    The number that shows a collapsed codebook (a handful of codewords for everything). A batch of N frames
    can use at most N per group, so compare runs at the same batch size.
    """
    # ids: [batch, frames, groups] int32; frame_mask: [batch, frames] bool
    chosen = tf.one_hot(ids, num_vars) * tf.cast(frame_mask, tf.float32)[:, :, None, None]
    return tf.reduce_mean(tf.reduce_max(chosen, axis=[0, 1]))


class PretrainTask(ModelTask):
    """Builds the pretraining model and inputs of a run, and computes its loss and gradients on one replica."""

    def __init__(self, config: TrainConfig) -> None:
        super().__init__(config)
        self.gumbel = GumbelSchedule(
            config.max_gumbel_temperature, config.min_gumbel_temperature, config.gumbel_temperature_decay
        )

    def pretrained_model(self, pretrained: str, overrides: dict[str, object]) -> Wav2Vec2ForPreTraining:
        return Wav2Vec2ForPreTraining.from_pretrained(pretrained, **overrides)

    def new_model(self, model_config: Wav2Vec2Config) -> Wav2Vec2ForPreTraining:
        return Wav2Vec2ForPreTraining(model_config)

    def build_inputs(
        self, file_pattern: str, training: bool, input_context: tf.distribute.InputContext | None = None
    ) -> tf.data.Dataset:
        """Returns per-replica training batches of audio (transcripts, if any, are not read)."""
        if not training:
            raise ValueError("pretraining has no evaluation split: its metrics are logged on the training batches")
        input_config = train_input_config(self.config, file_pattern, input_context)
        return build_dataset(input_config, None, self.frame_length_fn, input_context)

    def on_step_begin(self, model: Wav2Vec2ForPreTraining, step: int) -> None:
        model.set_gumbel_temperature(self.gumbel(step))

    def gradients(
        self,
        model: Wav2Vec2ForPreTraining,
        batch: dict[str, tf.Tensor],
        global_batch_size: int,
        loss_scale: tf.Tensor,
    ) -> tuple[tf.Tensor, list[tf.Tensor], dict[str, tf.Tensor]]:
        """Returns (this replica's share of the loss per masked frame, its gradients, metrics to average)."""
        model_config = self.model_config
        audio = normalize_audio(batch["audio"], batch["audio_length"])
        lengths = self.frame_length_fn(batch["audio_length"])
        num_frames = self.frame_length_fn(tf.shape(audio)[1])
        mask = compute_span_mask(
            lengths, num_frames, self.config.pretrain_mask_time_prob, self.config.pretrain_mask_time_length,
            model_config.mask_time_min_masks,
        )  # fmt: skip
        negatives = sample_negative_indices(mask, model_config.num_negatives)
        num_masked = tf.reduce_sum(tf.cast(mask, tf.float32))
        global_masked = num_masked
        context = tf.distribute.get_replica_context()
        if context is not None and context.num_replicas_in_sync > 1:
            global_masked = context.all_reduce(tf.distribute.ReduceOp.SUM, num_masked)
        normalizer = tf.maximum(global_masked, 1.0) * self.config.grad_accum_steps
        forward: dict[str, object] = {}

        def compute_loss() -> tf.Tensor:
            outputs = model(audio, audio_length=batch["audio_length"], mask_time_indices=mask, training=True)
            forward["outputs"], forward["terms"] = outputs, model.compute_pretraining_loss(outputs, mask, negatives)
            return forward["terms"].loss / normalizer

        loss, grads = loss_gradients(model, compute_loss, loss_scale)
        outputs, terms = forward["outputs"], forward["terms"]
        local_masked = tf.maximum(num_masked, 1.0)
        frame_mask = tf.sequence_mask(lengths, tf.shape(mask)[1])
        metrics = {
            "contrastive_loss": terms.contrastive_loss / local_masked,
            "diversity_loss": terms.diversity_loss / local_masked,
            "codevector_perplexity": tf.cast(outputs["codevector_perplexity"], tf.float32),
            "codevector_usage": codevector_usage(
                outputs["codevector_ids"], frame_mask, model_config.num_codevectors_per_group
            ),
            "masked_fraction": num_masked / tf.maximum(tf.reduce_sum(tf.cast(frame_mask, tf.float32)), 1.0),
            "gumbel_temperature": tf.convert_to_tensor(model.quantizer.temperature),
        }
        return loss, grads, metrics

    def save_pretrained(self, model: Wav2Vec2ForPreTraining, directory: Path) -> None:
        """Writes the model in HF's pretraining layout and its preprocessor config (what fine-tuning reads)."""
        model.save_pretrained(directory)
        Wav2Vec2FeatureExtractor().save_pretrained(directory)
