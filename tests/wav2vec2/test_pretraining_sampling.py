"""Masks and negatives drawn in-graph have the statistics of HF's NumPy samplers; the quantizer's training mode."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import torch
from transformers.models.wav2vec2.modeling_wav2vec2 import _compute_mask_indices, _sample_negative_indices

from wav2vec2 import Wav2Vec2Config, Wav2Vec2ForPreTraining, compute_span_mask, sample_negative_indices
from wav2vec2.quantizer import GumbelVectorQuantizer


def span_lengths(row: np.ndarray) -> list[int]:
    """Lengths of the runs of True in a bool row."""
    padded = np.concatenate([[False], row, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(edges[1::2] - edges[::2])


def test_span_masks_have_hf_masked_fraction_span_lengths_and_respect_lengths() -> None:
    batch, frames, prob, span = 400, 120, 0.65, 10
    lengths = np.where(np.arange(batch) % 2 == 0, frames, 70)
    # Both draw one rounding ε per call: many calls of 20 rows sample its distribution.
    ours = np.concatenate([
        compute_span_mask(tf.constant(lengths[i : i + 20]), frames, prob, span, 2, seed=tf.constant([3, i])).numpy()
        for i in range(0, batch, 20)
    ])  # fmt: skip
    np.random.seed(0)
    attention = np.arange(frames)[None, :] < lengths[:, None]
    theirs = np.concatenate([
        _compute_mask_indices((20, frames), prob, span, attention_mask=torch.from_numpy(attention[i : i + 20]),
                              min_masks=2)
        for i in range(0, batch, 20)
    ])  # fmt: skip
    for name, rows in (("full", slice(0, None, 2)), ("short", slice(1, None, 2))):
        ours_fraction = ours[rows].mean()
        theirs_fraction = theirs[rows].mean()
        assert abs(ours_fraction - theirs_fraction) < 0.02, (name, ours_fraction, theirs_fraction)
    assert not ours[1::2, 70:].any()  # never in the padding
    # Spans of exactly `span` frames (longer where overlapping ones merge), never shorter.
    ours_runs = [n for row in ours for n in span_lengths(row)]
    theirs_runs = [n for row in theirs[0::2] for n in span_lengths(row)]
    assert min(ours_runs) >= span
    assert abs(np.mean(ours_runs) - np.mean(theirs_runs)) < 0.1 * np.mean(theirs_runs)


def test_min_masks_and_rows_too_short_for_a_span() -> None:
    mask = compute_span_mask(tf.constant([100, 5, 0]), 100, 0.0, 10, min_masks=2, seed=tf.constant([1, 1])).numpy()
    assert mask[0].sum() >= 10  # two spans of 10 that may overlap
    assert not mask[1:].any()


def test_negatives_are_other_masked_frames_of_the_same_utterance_uniformly() -> None:
    rng = np.random.default_rng(0)
    batch, frames, k = 4, 50, 20
    mask = rng.random((batch, frames)) < 0.5
    mask[3] = False
    mask[3, 7] = True  # a row with a single masked frame has no distractor to draw
    negatives = sample_negative_indices(tf.constant(mask), k, seed=tf.constant([5, 6])).numpy()
    assert negatives.shape == (batch, frames, k)
    for b in range(3):
        masked = np.flatnonzero(mask[b])
        drawn = negatives[b][mask[b]] - b * frames  # [masked, k] frame indices
        assert np.isin(drawn, masked).all()  # from the same utterance's masked frames
        assert (drawn != masked[:, None]).all()  # never the positive itself
    assert (negatives[3, 7] == 3 * frames + 7).all()
    # Uniform over the other masked frames, as HF's sampler: compare per-frame hit counts on one long row.
    long_mask = np.zeros((1, 400), bool)
    long_mask[0, ::2] = True
    ours = sample_negative_indices(tf.constant(long_mask), 100).numpy()[0][long_mask[0]]
    np.random.seed(1)
    theirs = _sample_negative_indices((1, 400), 100, long_mask)[0][long_mask[0]]
    ours_counts = np.bincount(ours.ravel(), minlength=400)[::2]
    theirs_counts = np.bincount(theirs.ravel(), minlength=400)[::2]
    assert abs(ours_counts.mean() - theirs_counts.mean()) < 1e-9
    assert ours_counts.std() < 2 * theirs_counts.std() + 1


def test_gumbel_quantizer_trains_through_straight_through_one_hots() -> None:
    quantizer = GumbelVectorQuantizer(num_groups=2, num_vars=8, codevector_dim=6, name="quantizer")
    features = tf.random.stateless_normal([2, 30, 5], seed=[1, 2])
    with tf.GradientTape() as tape:
        codevectors, perplexity, ids = quantizer(features, training=True)
        loss = tf.reduce_sum(codevectors**2)
    grads = tape.gradient(loss, [quantizer.weight_proj.kernel, quantizer.codevectors])
    assert codevectors.shape == (2, 30, 6) and ids.shape == (2, 30, 2)
    assert all(g is not None and float(tf.reduce_sum(tf.abs(g))) > 0 for g in grads)
    # each frame's codevector is exactly one codeword per group
    books = quantizer.codevectors.numpy().reshape(2, 8, 3)
    expected = np.concatenate([books[0][ids.numpy()[..., 0]], books[1][ids.numpy()[..., 1]]], axis=-1)
    np.testing.assert_allclose(codevectors.numpy(), expected, rtol=1e-6)
    assert 1.0 <= float(perplexity) <= 16.0
    # Gumbel-max: training draws codewords from softmax(scores), so peaked scores give the argmax
    _, _, drawn = quantizer(features * 100.0, training=True)
    _, _, argmax = quantizer(features * 100.0, training=False)
    assert (drawn.numpy() == argmax.numpy()).mean() > 0.95
    _, _, drawn = quantizer(features * 0.01, training=True)
    _, _, argmax = quantizer(features * 0.01, training=False)
    assert (drawn.numpy() == argmax.numpy()).mean() < 0.5


def test_pretraining_step_lowers_the_loss_on_a_fixed_batch() -> None:
    config = Wav2Vec2Config(
        hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, conv_dim=(32, 32, 32),
        conv_kernel=(10, 3, 3), conv_stride=(5, 2, 2), num_conv_pos_embeddings=8, num_conv_pos_embedding_groups=4,
        num_codevector_groups=2, num_codevectors_per_group=16, codevector_dim=16, proj_codevector_dim=16,
        num_negatives=10, mask_time_length=4, hidden_dropout=0.0, attention_dropout=0.0, activation_dropout=0.0,
        layerdrop=0.0,
    )  # fmt: skip
    model = Wav2Vec2ForPreTraining(config).build_weights()
    audio = tf.random.stateless_normal([2, 4000], seed=[3, 4])
    frames = int(model.output_lengths(4000))
    mask = compute_span_mask(tf.constant([frames, frames]), frames, 0.65, 4, 2, seed=tf.constant([1, 2]))
    negatives = sample_negative_indices(mask, 10, seed=tf.constant([3, 4]))
    optimizer = tf.keras.optimizers.Adam(1e-3)

    @tf.function  # graph mode: TF's eager CPU kernel has no gradient for the grouped positional conv
    def step() -> tf.Tensor:
        with tf.GradientTape() as tape:
            outputs = model(audio, mask_time_indices=mask, training=True)
            loss = model.compute_pretraining_loss(outputs, mask, negatives).loss
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    losses = [float(step()) for _ in range(15)]
    assert np.all(np.isfinite(losses))
    assert np.mean(losses[-3:]) < np.mean(losses[:3]), losses
