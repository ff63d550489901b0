"""Wav2Vec2ForPreTraining: the body, a Gumbel vector quantizer and two projections for the contrastive task."""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from wav2vec2.checkpoint_model import CheckpointModel
from wav2vec2.config import Wav2Vec2Config
from wav2vec2.lengths import frame_lengths
from wav2vec2.model import Wav2Vec2Model
from wav2vec2.pretraining_loss import PretrainingLoss, pretraining_loss
from wav2vec2.quantizer import GumbelVectorQuantizer
from wav2vec2.serialization import register
from wav2vec2.weight_map import WeightEntry, dense_entries


@register
class Wav2Vec2ForPreTraining(CheckpointModel):
    """wav2vec 2.0 self-supervised pretraining (Baevski et al. 2020), weight-compatible with HF's class.

    `outputs = model(audio, mask_time_indices=mask)` replaces the masked frames' projected features by the
    learned `masked_spec_embed` before the transformer and returns a dict of
    - `projected_states`: `[batch, frames, proj_codevector_dim]`, the context vectors c_t through `project_hid`;
    - `projected_quantized_states`: the same shape, the quantized unmasked latents q_t through `project_q`;
    - `codevector_perplexity`: scalar, over the masked frames (all frames without a mask);
    - `codevector_ids`: `[batch, frames, groups]` int32, the codeword chosen per group.
    `model.compute_pretraining_loss(outputs, mask, negatives)` gives the loss terms. Masks and negatives come
    from `wav2vec2.spec_augment.compute_span_mask` and `wav2vec2.negatives.sample_negative_indices`.
    """

    def __init__(self, config: Wav2Vec2Config, **kwargs: Any) -> None:
        kwargs.setdefault("name", "wav2vec2_for_pre_training")
        super().__init__(config, **kwargs)
        self.wav2vec2 = Wav2Vec2Model(config, name="wav2vec2")
        self.dropout_features = keras.layers.Dropout(config.feat_quantizer_dropout)
        self.quantizer = GumbelVectorQuantizer(
            config.num_codevector_groups,
            config.num_codevectors_per_group,
            config.codevector_dim,
            name="quantizer",
        )
        self.project_hid = keras.layers.Dense(config.proj_codevector_dim, name="project_hid")
        self.project_q = keras.layers.Dense(config.proj_codevector_dim, name="project_q")

    @property
    def num_codevectors(self) -> int:
        return self.config.num_codevector_groups * self.config.num_codevectors_per_group

    def call(
        self,
        audio: tf.Tensor,
        audio_length: tf.Tensor | None = None,
        attention_mask: tf.Tensor | None = None,
        mask_time_indices: tf.Tensor | None = None,
        training: bool | None = None,
    ) -> dict[str, tf.Tensor]:
        # audio: [batch, samples] float32; mask_time_indices: [batch, frames] bool
        body = self.wav2vec2.encode(audio, audio_length, attention_mask, mask_time_indices, training=training)
        hidden = body.last_hidden_state
        quantized, perplexity, ids = self.quantizer(
            self.dropout_features(body.extract_features, training=training),
            mask_time_indices=mask_time_indices,
            training=training,
        )
        return {
            "projected_states": tf.cast(self.project_hid(hidden), tf.float32),
            "projected_quantized_states": tf.cast(self.project_q(quantized), tf.float32),
            "codevector_perplexity": perplexity,
            "codevector_ids": ids,
        }

    def compute_pretraining_loss(
        self, outputs: dict[str, tf.Tensor], mask_time_indices: tf.Tensor, sampled_negative_indices: tf.Tensor
    ) -> PretrainingLoss:
        """The contrastive, diversity and total loss of a call's outputs, weighted as the config says."""
        return pretraining_loss(
            outputs["projected_states"],
            outputs["projected_quantized_states"],
            outputs["codevector_perplexity"],
            mask_time_indices,
            sampled_negative_indices,
            outputs["codevector_ids"],
            num_codevectors=self.num_codevectors,
            contrastive_logits_temperature=self.config.contrastive_logits_temperature,
            diversity_loss_weight=self.config.diversity_loss_weight,
        )

    def set_gumbel_temperature(self, temperature: float | tf.Tensor) -> None:
        """Sets the Gumbel-softmax temperature used in training (annealed from 2 to 0.5 in the paper)."""
        self.quantizer.temperature.assign(tf.cast(temperature, self.quantizer.temperature.dtype))

    def output_lengths(self, audio_length: tf.Tensor) -> tf.Tensor:
        """Frames for each number of samples."""
        return frame_lengths(audio_length, self.config)

    def head_weight_entries(self) -> list[WeightEntry]:
        return [
            WeightEntry("quantizer.codevectors", self.quantizer.codevectors, "copy"),
            *dense_entries("quantizer.weight_proj", self.quantizer.weight_proj),
            *dense_entries("project_hid", self.project_hid),
            *dense_entries("project_q", self.project_q),
        ]

    def fit(self, *args: Any, **kwargs: Any) -> None:
        """Refuses at once: pretraining draws masks and distractors every step, which Keras' `fit` does not."""
        raise TypeError(
            "Wav2Vec2ForPreTraining does not train with fit(): each step draws its masks (compute_span_mask) and "
            "distractors (sample_negative_indices) and needs compute_pretraining_loss. Run `asr pretrain`, or "
            "Trainer(config, task=PretrainTask(config)) from training (docs/training.md)"
        )
