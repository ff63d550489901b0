"""CTC loss for `Wav2Vec2ForCTC` logits: blank = pad id, padded labels ignored, HF's reductions."""

from __future__ import annotations

from dataclasses import dataclass

import keras
import tensorflow as tf

from wav2vec2.serialization import register

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


def blank_padding_as_pad_id(labels: tf.Tensor, blank_id: int) -> tf.Tensor:
    """Returns the labels with trailing blank ids turned into `LABEL_PAD_ID`.

    The old TF2 library (and `padded_batch`'s default) pads label rows with 0, which is the blank here; the blank
    is never a target, so blanks after a row's last target can only be padding.
    """
    # labels: [batch, max_label] int32
    padding = tf.cast((labels < 0) | (labels == blank_id), tf.int32)
    trailing = tf.cast(tf.math.cumprod(padding, axis=1, reverse=True), tf.bool)
    return tf.where(trailing, tf.fill(tf.shape(labels), LABEL_PAD_ID), labels)


@dataclass(frozen=True)
class LabelProblem:
    """One way a label row can be unreadable for the loss: the `[batch]` rows that have it, and the fix."""

    rows: tf.Tensor
    message: str


def label_problems(labels: tf.Tensor, blank_id: int, vocab_size: tf.Tensor | int) -> list[LabelProblem]:
    """Returns the checks that refuse label rows the loss would misread, each naming the fix."""
    # labels: [batch, max_label] int32, padded at the end with negatives
    label_after_padding = (labels[:, 1:] >= 0) & (labels[:, :-1] < 0)
    return [
        LabelProblem(
            tf.reduce_any(labels == blank_id, axis=1),
            f"labels contain the CTC blank id {blank_id} before a row's last target; the blank is never a "
            f"target: pad label rows with {LABEL_PAD_ID} (or the blank id) at the end only",
        ),
        LabelProblem(
            tf.reduce_any(labels >= tf.cast(vocab_size, tf.int32), axis=1),
            "labels contain an id the logits have no output for",
        ),
        LabelProblem(
            tf.reduce_any(label_after_padding, axis=1),
            f"label rows must keep their padding ({LABEL_PAD_ID}) at the end; found a label after padding",
        ),
    ]


def dense_ctc_loss(
    blank_id: int, labels: tf.Tensor, logits: tf.Tensor, label_length: tf.Tensor, logit_length: tf.Tensor
) -> tf.Tensor:
    """`[batch]` CTC losses of `[batch, frames, vocab]` logits and zero-padded `[batch, max_label]` labels."""
    return tf.nn.ctc_loss(
        labels=labels,
        logits=logits,
        label_length=label_length,
        logit_length=logit_length,
        logits_time_major=False,
        blank_index=blank_id,
    )


def kernel_ctc_loss(
    blank_id: int, labels: tf.Tensor, logits: tf.Tensor, label_length: tf.Tensor, logit_length: tf.Tensor
) -> tf.Tensor:
    """`[batch]` CTC losses from TensorFlow's CTC kernel, the same function as `dense_ctc_loss`.

    The dense form is a while loop over frames that runs a few small ops per frame; the kernel is one op that
    computes loss and gradient together, but XLA cannot compile it (its labels are sparse).
    Rows whose labels need more frames than they have get 0 here (`ignore_longer_outputs_than_inputs`) instead of
    an error; `CTCLoss` replaces those losses anyway.
    """
    # labels: [batch, max_label] int32, valid ids first; logits: [batch, frames, vocab] float32
    # The kernel's blank is the last class: move the blank's logits there and shift the ids above it down by one.
    logits = tf.concat(
        [logits[:, :, :blank_id], logits[:, :, blank_id + 1 :], logits[:, :, blank_id : blank_id + 1]], axis=-1
    )
    ids = tf.where(labels > blank_id, labels - 1, labels)
    indices = tf.where(tf.sequence_mask(label_length, tf.shape(labels)[1]))
    sparse_labels = tf.SparseTensor(indices, tf.gather_nd(ids, indices), tf.shape(labels, out_type=tf.int64))
    return tf.compat.v1.nn.ctc_loss(
        labels=sparse_labels,
        inputs=logits,
        sequence_length=logit_length,
        preprocess_collapse_repeated=False,
        ctc_merge_repeated=True,
        ignore_longer_outputs_than_inputs=True,
        time_major=False,
    )


def compiled_by_xla() -> bool:
    """Whether the function being traced will be compiled by XLA (`jit_compile=True`, TPUs).

    TensorFlow's own ops ask the same question this way; there is no public form of it.
    """
    from tensorflow.python.ops import control_flow_util

    return control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph())


@register
class CTCLoss(keras.losses.Loss):
    """Connectionist temporal classification loss.

    `reduction_mode="sum"` (the hub configs' `ctc_loss_reduction`) sums the per-utterance losses; "mean" is
    PyTorch's mean: each utterance's loss divided by its label length, then averaged over the batch (TF's
    plain mean does not divide by the label length). `zero_infinity` turns infinite losses (labels longer
    than the logits allow) into 0 so one bad utterance cannot poison a step.

    Labels are `[batch, max_label]` ids padded at the end with `LABEL_PAD_ID` (-100) or with the blank id
    (the old TF2 library's 0 padding, which is the blank here); a blank before a row's last target, an id
    the logits do not have, or a label after -100 padding is refused with an error (with a NaN loss under
    XLA, which cannot raise). `Wav2Vec2ForCTC` calls this loss with each
    utterance's frame count (`logit_length`) when it trains under `fit`; a custom loop passes
    `logit_length=frame_lengths(audio_length, config)`. On another Keras model, `compile(loss=CTCLoss())`
    counts every frame as valid.
    """

    def __init__(
        self,
        blank_id: int = 0,
        reduction_mode: str = "mean",
        zero_infinity: bool = False,
        name: str = "ctc_loss",
        **kwargs: object,
    ) -> None:
        old_arguments = sorted(set(kwargs) & {"config", "model_input_shape", "division_factor"})
        if old_arguments or not isinstance(blank_id, int) or isinstance(blank_id, bool):
            raise TypeError(
                f"CTCLoss({', '.join(old_arguments) or type(blank_id).__name__ + ', ...'}) is the old TF2 wav2vec2 "
                "library's form: the loss now takes each utterance's frame count from the model, not a fixed "
                "input shape. Write model.compile(optimizer) (Wav2Vec2ForCTC computes the loss from its config) "
                "or CTCLoss(blank_id=config.pad_token_id, reduction_mode='sum')"
            )
        if reduction_mode not in ("sum", "mean"):
            raise ValueError(f"reduction_mode={reduction_mode!r} is not one of ('sum', 'mean')")
        keras_reduction = "sum" if reduction_mode == "sum" else "sum_over_batch_size"
        super().__init__(name=name, reduction=keras_reduction, **kwargs)
        self.blank_id = blank_id
        self.reduction_mode = reduction_mode
        self.zero_infinity = zero_infinity

    def per_utterance(self, labels: tf.Tensor, logits: tf.Tensor, logit_length: tf.Tensor | None = None) -> tf.Tensor:
        """`[batch]` losses (negative log-likelihoods), divided by label length in "mean" mode."""
        # labels: [batch, max_label] int, padded with negatives; logits: [batch, frames, vocab]
        labels = blank_padding_as_pad_id(tf.cast(labels, tf.int32), self.blank_id)
        logits = tf.cast(logits, tf.float32)
        problems = label_problems(labels, self.blank_id, tf.shape(logits)[-1])
        # XLA drops assertions ("Ignoring Assert operator"): there a refused row's loss is NaN instead, so a
        # compiled step shows `loss: nan` rather than training on a misread label.
        asserts = [tf.debugging.assert_equal(tf.reduce_any(p.rows), False, message=p.message) for p in problems]
        with tf.control_dependencies(asserts):
            labels = tf.identity(labels)
        refused = tf.reduce_any(tf.stack([p.rows for p in problems]), axis=0)
        label_mask = labels >= 0
        label_length = tf.reduce_sum(tf.cast(label_mask, tf.int32), axis=1)
        dense_labels = tf.where(label_mask, labels, tf.zeros_like(labels))
        if logit_length is None:
            logit_length = tf.fill(tf.shape(logits)[:1], tf.shape(logits)[1])
        logit_length = tf.cast(logit_length, tf.int32)
        ctc_loss = dense_ctc_loss if compiled_by_xla() else kernel_ctc_loss
        losses = ctc_loss(self.blank_id, dense_labels, logits, label_length, logit_length)
        # Where no alignment exists TF returns a large finite number (dense form) or 0 (kernel); PyTorch returns inf.
        feasible = ctc_min_frames(labels) <= logit_length
        impossible_value = 0.0 if self.zero_infinity else float("inf")
        losses = tf.where(feasible, losses, tf.fill(tf.shape(losses), impossible_value))
        losses = tf.where(refused, tf.fill(tf.shape(losses), float("nan")), losses)
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
            # As Keras' own mean losses: under tf.distribute each replica's mean is divided by the replica count,
            # so the gradients the replicas sum are those of the global mean ("sum" needs nothing).
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            return total / tf.cast(tf.shape(losses)[0] * replicas, total.dtype)
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
