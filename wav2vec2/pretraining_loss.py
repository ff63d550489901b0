"""The wav2vec 2.0 pretraining objective: contrastive loss over K distractors plus codebook diversity (§3.2)."""

from __future__ import annotations

from dataclasses import dataclass

import tensorflow as tf

# torch.cosine_similarity's default: keeps a zero vector from dividing by zero.
COSINE_EPS = 1e-8


@dataclass(frozen=True)
class PretrainingLoss:
    """Sums over the masked frames of the batch (HF's reduction); divide by `num_masked` for a mean."""

    loss: tf.Tensor
    contrastive_loss: tf.Tensor
    diversity_loss: tf.Tensor
    num_masked: tf.Tensor


def cosine_similarity(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    """Cosine similarity over the last axis, a·b / max(‖a‖ ‖b‖, ε) (broadcasting)."""
    dot = tf.reduce_sum(a * b, axis=-1)
    squared_norms = tf.reduce_sum(tf.square(a), axis=-1) * tf.reduce_sum(tf.square(b), axis=-1)
    # clamp before the square root: tf.norm's gradient at a zero vector is NaN
    return dot * tf.math.rsqrt(tf.maximum(squared_norms, COSINE_EPS**2))


def contrastive_logits(
    projected_states: tf.Tensor,
    projected_quantized_states: tf.Tensor,
    sampled_negative_indices: tf.Tensor,
    temperature: float,
) -> tf.Tensor:
    """Returns logits `[1 + K, batch, frames]`: sim(c_t, [q_t, q̃_1..K]) / κ (paper eq. 3).

    Row 0 of the logits is the true quantized latent; rows 1..K the distractors picked by
    `sampled_negative_indices` (`[batch, frames, K]`, into the flattened `[batch * frames]` frames).
    """
    # projected_states, projected_quantized_states: [batch, frames, dim]
    flat = tf.reshape(projected_quantized_states, [-1, tf.shape(projected_quantized_states)[-1]])
    # [batch, frames, K, dim] → [K, batch, frames, dim]
    negatives = tf.transpose(tf.gather(flat, sampled_negative_indices), [2, 0, 1, 3])
    targets = tf.concat([projected_quantized_states[None], negatives], axis=0)
    return cosine_similarity(projected_states[None], targets) / temperature


def pretraining_loss(
    projected_states: tf.Tensor,
    projected_quantized_states: tf.Tensor,
    codevector_perplexity: tf.Tensor,
    mask_time_indices: tf.Tensor,
    sampled_negative_indices: tf.Tensor,
    codevector_ids: tf.Tensor,
    num_codevectors: int,
    contrastive_logits_temperature: float = 0.1,
    diversity_loss_weight: float = 0.1,
) -> PretrainingLoss:
    """L = L_m + α L_d as HF's `Wav2Vec2ForPreTraining` computes it, summed over the masked frames.

    L_m: cross-entropy of the true latent among itself and K distractors; a distractor equal to the positive
    (same codewords in every group, `codevector_ids` `[batch, frames, groups]`: a collapsed codebook makes many)
    is left out of the softmax. HF compares the projected vectors instead; comparing the integer codeword ids
    gives the same answer without depending on a matmul giving bit-identical rows for identical inputs.
    L_d = (GV − perplexity) / GV per masked frame.
    """
    projected_states = tf.cast(projected_states, tf.float32)
    projected_quantized_states = tf.cast(projected_quantized_states, tf.float32)
    logits = contrastive_logits(
        projected_states, projected_quantized_states, sampled_negative_indices, contrastive_logits_temperature
    )
    ids = tf.cast(codevector_ids, tf.int32)
    groups = tf.shape(ids)[-1]
    # [batch, frames, K, groups] → [K, batch, frames, groups]
    negative_ids = tf.transpose(tf.gather(tf.reshape(ids, [-1, groups]), sampled_negative_indices), [2, 0, 1, 3])
    negative_is_positive = tf.reduce_all(tf.equal(negative_ids, ids[None]), axis=-1)
    logits = tf.concat(
        [logits[:1], tf.where(negative_is_positive, tf.constant(-float("inf"), logits.dtype), logits[1:])], axis=0
    )
    mask = tf.cast(mask_time_indices, tf.bool)
    per_frame = tf.reduce_logsumexp(logits, axis=0) - logits[0]  # cross-entropy with target 0
    contrastive = tf.reduce_sum(tf.where(mask, per_frame, 0.0))
    num_masked = tf.reduce_sum(tf.cast(mask, tf.float32))
    diversity = (num_codevectors - tf.cast(codevector_perplexity, tf.float32)) / num_codevectors * num_masked
    return PretrainingLoss(
        loss=contrastive + diversity_loss_weight * diversity,
        contrastive_loss=contrastive,
        diversity_loss=diversity,
        num_masked=num_masked,
    )
