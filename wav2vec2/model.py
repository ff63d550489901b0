"""Wav2Vec2Model (audio → contextual frames) and Wav2Vec2ForCTC (→ per-frame character logits)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from wav2vec2.config import Wav2Vec2Config
from wav2vec2.encoder import Encoder
from wav2vec2.feature_encoder import FeatureEncoder
from wav2vec2.lengths import frame_lengths, receptive_field
from wav2vec2.spec_augment import compute_span_mask


class FeatureProjection(keras.layers.Layer):
    """LayerNorm over the conv features, then a projection to the transformer width."""

    def __init__(self, config: Wav2Vec2Config, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.layer_norm = keras.layers.LayerNormalization(epsilon=config.layer_norm_eps, name="layer_norm")
        self.projection = keras.layers.Dense(config.hidden_size, name="projection")
        self.dropout = keras.layers.Dropout(config.feat_proj_dropout)

    def call(self, x: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        return self.dropout(self.projection(self.layer_norm(x)), training=training)


def resolve_sample_lengths(
    audio: tf.Tensor, audio_length: tf.Tensor | None, attention_mask: tf.Tensor | None
) -> tf.Tensor | None:
    """Valid samples per row from whichever of `audio_length` / HF-style `attention_mask` was given."""
    if audio_length is not None and attention_mask is not None:
        raise ValueError("pass audio_length or attention_mask, not both")
    if attention_mask is not None:
        return tf.reduce_sum(tf.cast(attention_mask, tf.int32), axis=-1)
    if audio_length is not None:
        lengths = tf.cast(tf.convert_to_tensor(audio_length), tf.int32)
        return tf.minimum(lengths, tf.shape(audio)[1])
    return None


class Wav2Vec2Model(keras.Model):
    """The wav2vec 2.0 body: `model(audio)` → `[batch, frames, hidden]` hidden states of the last layer.

    `audio` is normalised 16 kHz audio `[batch, samples]`. Given `audio_length` (or `attention_mask`), padded
    samples and frames are masked everywhere (group-norm statistics, positional conv input, attention keys),
    so each row's valid frames equal those of a call on that row alone.
    """

    def __init__(self, config: Wav2Vec2Config, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.feature_extractor = FeatureEncoder(config, name="feature_extractor")
        self.feature_projection = FeatureProjection(config, name="feature_projection")
        self.encoder = Encoder(config, name="encoder")
        self.masked_spec_embed = self.add_weight(
            name="masked_spec_embed",
            shape=(config.hidden_size,),
            initializer=keras.initializers.RandomUniform(0.0, 1.0),
        )

    def call(
        self,
        audio: tf.Tensor,
        audio_length: tf.Tensor | None = None,
        attention_mask: tf.Tensor | None = None,
        training: bool | None = None,
    ) -> tf.Tensor:
        # audio: [batch, samples] float32
        audio = tf.convert_to_tensor(audio)
        sample_lengths = resolve_sample_lengths(audio, audio_length, attention_mask)
        features = self.feature_extractor(audio, sample_lengths=sample_lengths)
        hidden = self.feature_projection(features, training=training)
        frame_mask = None
        num_frames = tf.shape(hidden)[1]
        if sample_lengths is not None:
            frame_mask = tf.sequence_mask(frame_lengths(sample_lengths, self.config), maxlen=num_frames)
        if training and self.config.apply_spec_augment:
            hidden = self._spec_augment(hidden, frame_mask)
        return self.encoder(hidden, frame_mask=frame_mask, training=training)

    def _spec_augment(self, hidden: tf.Tensor, frame_mask: tf.Tensor | None) -> tf.Tensor:
        """Time spans replaced by the learned `masked_spec_embed`; channel spans zeroed (wav2vec 2.0 §4.3)."""
        config = self.config
        batch, num_frames = tf.shape(hidden)[0], tf.shape(hidden)[1]
        if frame_mask is None:
            lengths = tf.fill([batch], num_frames)
        else:
            lengths = tf.reduce_sum(tf.cast(frame_mask, tf.int32), axis=1)
        if config.mask_time_prob > 0:
            time_mask = compute_span_mask(
                lengths, num_frames, config.mask_time_prob, config.mask_time_length, config.mask_time_min_masks
            )
            embed = tf.cast(self.masked_spec_embed, hidden.dtype)[None, None, :]
            hidden = tf.where(time_mask[:, :, None], embed, hidden)
        if config.mask_feature_prob > 0:
            channels = tf.fill([batch], config.hidden_size)
            feature_mask = compute_span_mask(
                channels,
                config.hidden_size,
                config.mask_feature_prob,
                config.mask_feature_length,
                config.mask_feature_min_masks,
            )
            hidden = tf.where(feature_mask[:, None, :], tf.zeros_like(hidden), hidden)
        return hidden


class Wav2Vec2ForCTC(keras.Model):
    """wav2vec 2.0 with a linear CTC head: `logits = model(audio)` → `[batch, frames, vocab_size]`."""

    def __init__(self, config: Wav2Vec2Config, **kwargs: Any) -> None:
        kwargs.setdefault("name", "wav2vec2_for_ctc")
        super().__init__(**kwargs)
        self.config = config
        self.wav2vec2 = Wav2Vec2Model(config, name="wav2vec2")
        self.dropout = keras.layers.Dropout(config.final_dropout)
        self.lm_head = keras.layers.Dense(config.vocab_size, name="lm_head")

    def call(
        self,
        audio: tf.Tensor,
        audio_length: tf.Tensor | None = None,
        attention_mask: tf.Tensor | None = None,
        training: bool | None = None,
    ) -> tf.Tensor:
        hidden = self.wav2vec2(audio, audio_length=audio_length, attention_mask=attention_mask, training=training)
        logits = self.lm_head(self.dropout(hidden, training=training))
        return tf.cast(logits, tf.float32)

    def build_weights(self) -> Wav2Vec2ForCTC:
        """Creates every weight by calling the model once on the shortest input that gives one frame."""
        if not self.built or not self.weights:
            self(np.zeros((1, receptive_field(self.config)), np.float32), training=False)
        return self

    def output_lengths(self, audio_length: tf.Tensor) -> tf.Tensor:
        """Frames of logits for each number of samples."""
        return frame_lengths(audio_length, self.config)

    def freeze_feature_extractor(self) -> None:
        """Stops the conv feature encoder from training (the wav2vec 2.0 recipe; fine-tunes better)."""
        self.wav2vec2.feature_extractor.trainable = False

    def unfreeze_feature_extractor(self) -> None:
        self.wav2vec2.feature_extractor.trainable = True

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path, **config_overrides: Any) -> Wav2Vec2ForCTC:
        """Loads an HF checkpoint directory, a hub id, or a directory written by `save_pretrained`.

        `config_overrides` replace config fields (e.g. dropout for fine-tuning, or a new `vocab_size`, which
        leaves the CTC head freshly initialised).
        """
        from wav2vec2.pretrained import load_pretrained_model

        return load_pretrained_model(cls, name_or_path, **config_overrides)

    def save_pretrained(self, directory: str | Path) -> None:
        """Writes `config.json` and `model.safetensors` in HF's layout (loadable by transformers too)."""
        from wav2vec2.pretrained import save_pretrained_model

        save_pretrained_model(self, directory)
