"""Wav2Vec2Model (audio → contextual frames) and Wav2Vec2ForCTC (→ per-frame character logits)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import keras
import tensorflow as tf

from wav2vec2.checkpoint_model import CheckpointModel
from wav2vec2.config import Wav2Vec2Config
from wav2vec2.ctc_loss import CTCLoss
from wav2vec2.encoder import Encoder
from wav2vec2.feature_encoder import FeatureEncoder
from wav2vec2.lengths import frame_lengths
from wav2vec2.serialization import ConfigSerializable, register
from wav2vec2.spec_augment import compute_span_mask
from wav2vec2.weight_map import WeightEntry


@register
class FeatureProjection(ConfigSerializable, keras.layers.Layer):
    """LayerNorm over the conv features, then a projection to the transformer width.

    Returns `(hidden [batch, frames, hidden_size], normed [batch, frames, conv_dim[-1]])`: the quantizer of
    pretraining reads the layer-normed conv features (HF's `extract_features`), the transformer their projection.
    """

    def __init__(self, config: Wav2Vec2Config, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.layer_norm = keras.layers.LayerNormalization(epsilon=config.layer_norm_eps, name="layer_norm")
        self.projection = keras.layers.Dense(config.hidden_size, name="projection")
        self.dropout = keras.layers.Dropout(config.feat_proj_dropout)

    def call(self, x: tf.Tensor, training: bool | None = None) -> tuple[tf.Tensor, tf.Tensor]:
        normed = self.layer_norm(x)
        return self.dropout(self.projection(normed), training=training), normed


@dataclass(frozen=True)
class BodyOutputs:
    """What `Wav2Vec2Model.encode` gives: the hidden states and HF's `extract_features`."""

    last_hidden_state: tf.Tensor  # [batch, frames, hidden_size]
    extract_features: tf.Tensor  # [batch, frames, conv_dim[-1]], layer-normed conv features


# The keys of a dict input (what `model.fit` gets from a dataset of `({"audio": ..., "audio_length": ...}, labels)`).
INPUT_KEYS = ("audio", "audio_length", "attention_mask")


def unpack_inputs(
    audio: tf.Tensor | Mapping[str, tf.Tensor],
    audio_length: tf.Tensor | None = None,
    attention_mask: tf.Tensor | None = None,
) -> tuple[tf.Tensor, tf.Tensor | None, tf.Tensor | None]:
    """Returns `(audio [batch, samples], audio_length [batch] | None, attention_mask | None)` from either form.

    The model takes its inputs as arguments (`model(audio, audio_length=...)`) or as one dict with the same
    names (the form `fit` needs, since a dataset element is `(inputs, labels)`). One utterance `[samples]`
    is a batch of one.
    """
    if isinstance(audio, Mapping):
        unknown = sorted(set(audio) - set(INPUT_KEYS))
        if unknown or "audio" not in audio:
            raise ValueError(
                f"input dict keys {sorted(audio)}: expected 'audio' and optionally 'audio_length' or "
                f"'attention_mask' (labels are the dataset's second element, y, not an input)"
            )
        audio, audio_length, attention_mask = audio["audio"], audio.get("audio_length"), audio.get("attention_mask")
    audio = tf.convert_to_tensor(audio)
    if audio.shape.rank == 1:
        audio = audio[None, :]
        if audio_length is not None:
            audio_length = tf.reshape(audio_length, [1])
        if attention_mask is not None:
            attention_mask = tf.reshape(attention_mask, [1, -1])
    elif audio.shape.rank is not None and audio.shape.rank != 2:
        raise ValueError(
            f"expected audio of shape [batch, samples] (or [samples] for one utterance), got shape {audio.shape}"
        )
    return audio, audio_length, attention_mask


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


# SpecAugment's `mask_time_min_masks` (2 spans of 10 frames in the hub configs) was sized for LibriSpeech's
# utterances of several seconds, where it masks at most 20% of a 2 s row. On a short clip it would mask most of
# it (a 0.45 s digit of 22 frames: up to 20 frames) and the model then learns to transcribe clips it never sees
# whole; so the guaranteed spans stop at this share of a row (docs/training.md has the measurement). Rows long
# enough for `mask_time_prob` alone are masked as in HF.
MIN_MASKS_MAX_FRACTION = 0.2


@register
class Wav2Vec2Model(CheckpointModel):
    """The wav2vec 2.0 body: `model(audio)` → `[batch, frames, hidden]` hidden states of the last layer.

    `audio` is normalised 16 kHz audio `[batch, samples]` (one utterance `[samples]` is a batch of one), or a
    dict of the same inputs (`unpack_inputs`). Given `audio_length` (or `attention_mask`), padded samples and
    frames are masked everywhere (group-norm statistics, positional conv input, attention keys), so each row's
    valid frames equal those of a call on that row alone. Without either, every sample is valid.
    """

    def __init__(self, config: Wav2Vec2Config, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.feature_extractor = FeatureEncoder(config, name="feature_extractor")
        self.feature_projection = FeatureProjection(config, name="feature_projection")
        self.encoder = Encoder(config, name="encoder")
        self.masked_spec_embed = self.add_weight(
            name="masked_spec_embed",
            shape=(config.hidden_size,),
            initializer=keras.initializers.RandomUniform(0.0, 1.0),
        )

    def body(self) -> Wav2Vec2Model:
        return self

    def call(
        self,
        audio: tf.Tensor,
        audio_length: tf.Tensor | None = None,
        attention_mask: tf.Tensor | None = None,
        mask_time_indices: tf.Tensor | None = None,
        training: bool | None = None,
    ) -> tf.Tensor:
        """Returns the last layer's hidden states `[batch, frames, hidden_size]` (`encode` has the rest)."""
        return self.encode(audio, audio_length, attention_mask, mask_time_indices, training).last_hidden_state

    def encode(
        self,
        audio: tf.Tensor,
        audio_length: tf.Tensor | None = None,
        attention_mask: tf.Tensor | None = None,
        mask_time_indices: tf.Tensor | None = None,
        training: bool | None = None,
    ) -> BodyOutputs:
        """Returns the hidden states and the layer-normed conv features of a batch.

        `mask_time_indices` (`[batch, frames]` bool, pretraining's masks) replaces those frames' projected
        features by `masked_spec_embed` instead of SpecAugment's drawn time masks, as in HF.
        """
        # audio: [batch, samples] float32
        audio, audio_length, attention_mask = unpack_inputs(audio, audio_length, attention_mask)
        sample_lengths = resolve_sample_lengths(audio, audio_length, attention_mask)
        features = self.feature_extractor(audio, sample_lengths=sample_lengths, training=training)
        hidden, extract_features = self.feature_projection(features, training=training)
        frame_mask = None
        num_frames = tf.shape(hidden)[1]
        if sample_lengths is not None:
            frame_mask = tf.sequence_mask(frame_lengths(sample_lengths, self.config), maxlen=num_frames)
        if mask_time_indices is not None:
            hidden = self._mask_frames(hidden, tf.cast(mask_time_indices, tf.bool))
        if training and self.config.apply_spec_augment:
            hidden = self._spec_augment(hidden, frame_mask, draw_time_masks=mask_time_indices is None)
        hidden = self.encoder(hidden, frame_mask=frame_mask, training=training)
        return BodyOutputs(last_hidden_state=hidden, extract_features=extract_features)

    def _mask_frames(self, hidden: tf.Tensor, time_mask: tf.Tensor) -> tf.Tensor:
        embed = tf.cast(self.masked_spec_embed, hidden.dtype)[None, None, :]
        return tf.where(time_mask[:, :, None], embed, hidden)

    def _spec_augment(self, hidden: tf.Tensor, frame_mask: tf.Tensor | None, draw_time_masks: bool = True) -> tf.Tensor:
        """Time spans replaced by the learned `masked_spec_embed`; channel spans zeroed (wav2vec 2.0 §4.3)."""
        config = self.config
        batch, num_frames = tf.shape(hidden)[0], tf.shape(hidden)[1]
        if frame_mask is None:
            lengths = tf.fill([batch], num_frames)
        else:
            lengths = tf.reduce_sum(tf.cast(frame_mask, tf.int32), axis=1)
        if config.mask_time_prob > 0 and draw_time_masks:
            time_mask = compute_span_mask(
                lengths, num_frames, config.mask_time_prob, config.mask_time_length, config.mask_time_min_masks,
                min_masks_max_fraction=MIN_MASKS_MAX_FRACTION,
            )  # fmt: skip
            hidden = self._mask_frames(hidden, time_mask)
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


@register
class Wav2Vec2ForCTC(CheckpointModel):
    """wav2vec 2.0 with a linear CTC head: `logits = model(audio)` → `[batch, frames, vocab_size]`.

    Trains with Keras' own loop: `model.compile(optimizer)` then `model.fit(dataset)` where each element is
    `({"audio": [batch, samples], "audio_length": [batch]}, labels [batch, max_label])`, labels padded with
    -100 (or the blank id) at the end. The model computes the CTC loss itself (`compute_loss`), with each
    utterance's own frame count, so a padded batch gives the sum (or mean) of the losses of its utterances alone.
    """

    def __init__(self, config: Wav2Vec2Config, **kwargs: Any) -> None:
        kwargs.setdefault("name", "wav2vec2_for_ctc")
        super().__init__(config, **kwargs)
        self.wav2vec2 = Wav2Vec2Model(config, name="wav2vec2")
        self.dropout = keras.layers.Dropout(config.final_dropout)
        self.lm_head = keras.layers.Dense(config.vocab_size, name="lm_head")
        self.ctc_loss = default_ctc_loss(config)

    def head_weight_entries(self) -> list[WeightEntry]:
        # Optional: a body-only or pretraining checkpoint has no CTC head; loading keeps the fresh one.
        return [
            WeightEntry("lm_head.weight", self.lm_head.kernel, "linear", optional=True),
            WeightEntry("lm_head.bias", self.lm_head.bias, "copy", optional=True),
        ]

    def call(
        self,
        audio: tf.Tensor | Mapping[str, tf.Tensor],
        audio_length: tf.Tensor | None = None,
        attention_mask: tf.Tensor | None = None,
        training: bool | None = None,
    ) -> tf.Tensor:
        hidden = self.wav2vec2(audio, audio_length=audio_length, attention_mask=attention_mask, training=training)
        logits = self.lm_head(self.dropout(hidden, training=training))
        return tf.cast(logits, tf.float32)

    def logits_from_features(self, features: tf.Tensor, feature_length: tf.Tensor) -> tf.Tensor:
        """Returns the logits `[batch, frames, vocab_size]` of conv features (`FeatureEncoder`'s output), inference.

        The second half of `call`: with `FeatureEncoder.features_from` it lets a caller keep the conv features of
        audio it has already encoded (a live stream) and run only the transformer again.
        """
        # features: [batch, frames, conv_dim[-1]]; feature_length: [batch] int32
        body = self.wav2vec2
        hidden, _ = body.feature_projection(features, training=False)
        frame_mask = tf.sequence_mask(feature_length, maxlen=tf.shape(hidden)[1])
        hidden = body.encoder(hidden, frame_mask=frame_mask, training=False)
        return tf.cast(self.lm_head(hidden), tf.float32)

    def compile(self, optimizer: Any = "rmsprop", loss: CTCLoss | None = None, **kwargs: Any) -> None:
        """Keras' `compile`; `loss` is None (a `CTCLoss` built from the config) or a `CTCLoss` to use instead."""
        if "loss_fn" in kwargs:
            raise TypeError(
                "compile(loss_fn=...) is the old TF2 wav2vec2 library's form; write model.compile(optimizer) "
                "(the model computes the CTC loss from its config) or model.compile(optimizer, loss=CTCLoss(...))"
            )
        if loss is not None and not isinstance(loss, CTCLoss):
            raise TypeError(
                f"Wav2Vec2ForCTC computes the CTC loss itself: compile with loss=None or a CTCLoss, not {loss!r}"
            )
        super().compile(optimizer=optimizer, **kwargs)
        self.ctc_loss = loss or default_ctc_loss(self.config)

    def compute_loss(
        self,
        x: Any = None,
        y: tf.Tensor | None = None,
        y_pred: tf.Tensor | None = None,
        sample_weight: tf.Tensor | None = None,
        training: bool = True,
    ) -> tf.Tensor | None:
        """The CTC loss of a batch `(x, y)`, each utterance with the frames of its own `audio_length`."""
        if y is None:
            return None
        y = tf.convert_to_tensor(y)
        if y.shape.rank == 1:  # the labels of one utterance, as `[samples]` audio is a batch of one
            y = y[None, :]
        audio, audio_length, attention_mask = unpack_inputs(x)
        sample_lengths = resolve_sample_lengths(audio, audio_length, attention_mask)
        if sample_lengths is None:
            sample_lengths = tf.fill(tf.shape(audio)[:1], tf.shape(audio)[1])
        return self.ctc_loss(
            y, y_pred, sample_weight=sample_weight, logit_length=frame_lengths(sample_lengths, self.config)
        )


def default_ctc_loss(config: Wav2Vec2Config) -> CTCLoss:
    """The CTC loss HF's Wav2Vec2ForCTC computes: blank = pad id, the config's reduction and zero_infinity."""
    return CTCLoss(
        blank_id=config.pad_token_id,
        reduction_mode=config.ctc_loss_reduction,
        zero_infinity=config.ctc_zero_infinity,
    )
