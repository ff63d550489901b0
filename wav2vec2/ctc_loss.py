"""CTC loss for `Wav2Vec2ForCTC` logits: blank = pad id, padded labels ignored, HF's reductions."""

from __future__ import annotations

import keras
import tensorflow as tf

# HF pads label batches with -100; any negative id counts as padding here.
LABEL_PAD_ID = -100


def ctc_min_frames(labels: tf.Tensor) -> tf.Tensor:
    """`[batch]` fewest frames a CTC alignment of each label row needs: one per token, plus a blank between
    each pair of equal neighbours. Negative ids are padding."""
    # labels: [batch, max_label] int
    labels = tf.cast(labels, tf.int32)
    label_mask = labels >= 0
    repeats = tf.cast((labels[:, 1:] == labels[:, :-1]) & label_mask[:, 1:], tf.int32)
    return tf.reduce_sum(tf.cast(label_mask, tf.int32), axis=1) + tf.reduce_sum(repeats, axis=1)


class CTCLoss(keras.losses.Loss):
    """Connectionist temporal classification loss.

    `reduction_mode="sum"` (the hub configs' `ctc_loss_reduction`) sums the per-utterance losses; "mean" is
    PyTorch's mean: each utterance's loss divided by its label length, then averaged over the batch (TF's
    plain mean does not divide by the label length). `zero_infinity` turns infinite losses (labels longer
    than the logits allow) into 0 so one bad utterance cannot poison a step.

    With `model.compile(loss=CTCLoss())` Keras gives the loss only labels and logits, so every frame counts
    as valid; a custom train step should call `loss(labels, logits, logit_length=...)` with the frame counts
    from `model.output_lengths(audio_length)`.
    """

    def __init__(
        self,
        blank_id: int = 0,
        reduction_mode: str = "mean",
        zero_infinity: bool = False,
        name: str = "ctc_loss",
        **kwargs: object,
    ) -> None:
        if reduction_mode not in ("sum", "mean"):
            raise ValueError(f"reduction_mode={reduction_mode!r} is not one of ('sum', 'mean')")
        keras_reduction = "sum" if reduction_mode == "sum" else "sum_over_batch_size"
        super().__init__(name=name, reduction=keras_reduction, **kwargs)
        self.blank_id = blank_id
        self.reduction_mode = reduction_mode
        self.zero_infinity = zero_infinity

    def per_utterance(
        self, labels: tf.Tensor, logits: tf.Tensor, logit_length: tf.Tensor | None = None
    ) -> tf.Tensor:
        """`[batch]` losses (negative log-likelihoods), divided by label length in "mean" mode."""
        # labels: [batch, max_label] int, padded with negatives; logits: [batch, frames, vocab]
        labels = tf.cast(labels, tf.int32)
        logits = tf.cast(logits, tf.float32)
        label_mask = labels >= 0
        label_length = tf.reduce_sum(tf.cast(label_mask, tf.int32), axis=1)
        dense_labels = tf.where(label_mask, labels, tf.zeros_like(labels))
        if logit_length is None:
            logit_length = tf.fill(tf.shape(logits)[:1], tf.shape(logits)[1])
        losses = tf.nn.ctc_loss(
            labels=dense_labels,
            logits=logits,
            label_length=label_length,
            logit_length=tf.cast(logit_length, tf.int32),
            logits_time_major=False,
            blank_index=self.blank_id,
        )
        # TF returns a large finite number where no alignment exists; PyTorch returns inf.
        feasible = ctc_min_frames(labels) <= tf.cast(logit_length, tf.int32)
        impossible_value = 0.0 if self.zero_infinity else float("inf")
        losses = tf.where(feasible, losses, tf.fill(tf.shape(losses), impossible_value))
        if self.reduction_mode == "mean":
            losses = losses / tf.cast(tf.maximum(label_length, 1), losses.dtype)
        return losses

    def call(self, y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
        return self.per_utterance(y_true, y_pred)

    def __call__(
        self,
        y_true: tf.Tensor,
        y_pred: tf.Tensor,
        sample_weight: tf.Tensor | None = None,
        logit_length: tf.Tensor | None = None,
    ) -> tf.Tensor:
        if logit_length is None:
            return super().__call__(y_true, y_pred, sample_weight=sample_weight)
        losses = self.per_utterance(y_true, y_pred, logit_length)
        if sample_weight is not None:
            losses = losses * tf.cast(sample_weight, losses.dtype)
        total = tf.reduce_sum(losses)
        if self.reduction_mode == "mean":
            return total / tf.cast(tf.shape(losses)[0], total.dtype)
        return total

    def get_config(self) -> dict[str, object]:
        config = super().get_config()
        config.pop("reduction", None)
        return {
            **config,
            "blank_id": self.blank_id,
            "reduction_mode": self.reduction_mode,
            "zero_infinity": self.zero_infinity,
        }
