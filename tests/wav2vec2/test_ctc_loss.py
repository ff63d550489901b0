"""CTCLoss equals PyTorch's ctc_loss (HF's training loss) in both reductions, with padded labels and frames."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import torch

from wav2vec2 import CTCLoss


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_ctc_loss_matches_pytorch(reduction):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 40, 12)).astype(np.float32)
    logit_length = np.array([40, 25, 31], np.int32)
    labels = np.full((3, 9), -100, np.int64)
    for row, n in enumerate((9, 4, 6)):
        labels[row, :n] = rng.integers(1, 12, n)

    ours = CTCLoss(blank_id=0, reduction_mode=reduction)(labels, logits, logit_length=logit_length)

    log_probs = torch.from_numpy(logits).log_softmax(-1).transpose(0, 1)
    label_mask = torch.from_numpy(labels) >= 0
    expected = torch.nn.functional.ctc_loss(
        log_probs,
        torch.from_numpy(labels)[label_mask],
        torch.from_numpy(logit_length).long(),
        label_mask.sum(-1),
        blank=0,
        reduction=reduction,
    )
    np.testing.assert_allclose(float(ours), float(expected), rtol=1e-4)


def test_zero_infinity_drops_impossible_utterances():
    logits = np.zeros((2, 3, 5), np.float32)
    labels = np.array([[1, 2, 3, 4], [1, -100, -100, -100]])  # 4 labels cannot fit in 3 frames
    assert not np.isfinite(float(CTCLoss(reduction_mode="sum")(labels, logits, logit_length=[3, 3])))
    finite = CTCLoss(reduction_mode="sum", zero_infinity=True)(labels, logits, logit_length=[3, 3])
    assert np.isfinite(float(finite)) and float(finite) > 0


def test_usable_with_keras_compile():
    import keras

    inputs = keras.Input((20, 4))
    model = keras.Model(inputs, keras.layers.Dense(6)(inputs))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=CTCLoss(blank_id=0))
    x = np.random.default_rng(0).normal(size=(4, 20, 4)).astype(np.float32)
    y = np.array([[1, 2, 3, -100], [2, 2, -100, -100], [5, 4, 3, 2], [1, -100, -100, -100]])
    history = model.fit(x, y, epochs=30, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] * 0.8


def test_old_library_signature_shows_the_new_form():
    from wav2vec2 import Wav2Vec2Config

    with pytest.raises(TypeError, match=r"config, model_input_shape.*model.compile\(optimizer\)"):
        CTCLoss(config=Wav2Vec2Config(), model_input_shape=(2, 246000))
    with pytest.raises(TypeError, match=r"old TF2 wav2vec2 library.*CTCLoss\(blank_id=config.pad_token_id"):
        CTCLoss(Wav2Vec2Config(), (2, 246000))  # positionally, as the old README wrote it


def test_labels_with_padding_in_the_middle_are_refused():
    logits = np.zeros((1, 10, 5), np.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="padding .* at the end"):
        CTCLoss()(np.array([[1, -100, 2]]), logits, logit_length=[10])
    with pytest.raises(tf.errors.InvalidArgumentError, match="no output for"):
        CTCLoss()(np.array([[1, 7]]), logits, logit_length=[10])


@pytest.mark.parametrize("blank_id", [0, 3])
def test_eager_calls_give_the_graphs_loss_and_gradient_for_any_shape(blank_id):
    """A custom training loop calls the loss eagerly: same values and gradients as inside `fit`, for any shape."""
    loss = CTCLoss(blank_id=blank_id, reduction_mode="sum")
    in_a_graph = tf.function(loss.__call__)
    rng = np.random.default_rng(1)
    for batch, frames, labels in ((2, 30, [[1, 2, -100], [4, 4, 5]]), (1, 45, [[5, 1, 2, 1]]), (3, 12, [[2]] * 3)):
        logits = tf.Variable(rng.normal(size=(batch, frames, 6)).astype(np.float32))
        gradients = []
        for call in (loss, in_a_graph):
            with tf.GradientTape() as tape:
                value = call(tf.constant(labels), logits)
            gradients.append(tape.gradient(value, logits).numpy())
            np.testing.assert_allclose(float(value), float(in_a_graph(tf.constant(labels), logits)), rtol=1e-6)
        np.testing.assert_allclose(gradients[0], gradients[1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("jit_compile", [False, True], ids=["graph", "xla"])
@pytest.mark.parametrize("blank_id", [0, 3])
def test_loss_and_gradient_equal_pytorchs_with_zero_infinity(jit_compile: bool, blank_id: int) -> None:
    """What a training step gets, outside XLA (TF's CTC kernel) and under it (the dense form): PyTorch's mean loss
    and its gradient, impossible rows (too many labels; repeats with no frame for the blank between) at zero."""
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(4, 12, 7)).astype(np.float32)
    logit_length = np.array([12, 9, 3, 4], np.int32)
    other = [i for i in range(7) if i != blank_id]
    labels = np.array([other[:5], other[1:4] + [-100] * 2, other[:4] + [-100], [other[2]] * 3 + [-100] * 2])

    def our_loss(y, p):  # noqa: ANN001, ANN202
        return CTCLoss(blank_id=blank_id, reduction_mode="mean", zero_infinity=True)(y, p, logit_length=logit_length)

    step = tf.function(our_loss, jit_compile=jit_compile)
    variable = tf.Variable(logits)
    with tf.GradientTape() as tape:
        ours = step(tf.constant(labels), variable)
    our_gradient = tape.gradient(ours, variable).numpy()

    torch_logits = torch.from_numpy(logits).requires_grad_()
    label_mask = torch.from_numpy(labels) >= 0
    expected = torch.nn.functional.ctc_loss(
        torch_logits.log_softmax(-1).transpose(0, 1),
        torch.from_numpy(labels)[label_mask],
        torch.from_numpy(logit_length).long(),
        label_mask.sum(-1),
        blank=blank_id,
        reduction="mean",
        zero_infinity=True,
    )
    expected.backward()
    np.testing.assert_allclose(float(ours), float(expected.detach()), rtol=1e-5)
    np.testing.assert_allclose(our_gradient, torch_logits.grad.numpy(), atol=1e-6)
    assert not our_gradient[2:].any()  # the two impossible rows train nothing


def test_outside_xla_the_loss_is_tensorflows_ctc_kernel_not_a_loop_over_frames() -> None:
    """The dense form runs a few small ops per frame (several times the kernel's time in a training step); XLA
    cannot compile the kernel, so a `jit_compile` step keeps the dense form."""
    labels = tf.TensorSpec([None, None], tf.int32)
    logits = tf.TensorSpec([None, None, 6], tf.float32)

    def op_types(jit_compile: bool) -> set[str]:
        traced = tf.function(lambda y, p: CTCLoss().per_utterance(y, p), jit_compile=jit_compile)
        return {op.type for op in traced.get_concrete_function(labels, logits).graph.get_operations()}

    plain, compiled = op_types(jit_compile=False), op_types(jit_compile=True)
    assert "CTCLoss" in plain and not plain & {"While", "StatelessWhile"}
    assert "CTCLoss" not in compiled and compiled & {"While", "StatelessWhile"}


@pytest.mark.parametrize("jit_compile", [False, True], ids=["graph", "xla"])
def test_labels_padded_with_the_blank_id_give_the_loss_of_minus_100_padding(jit_compile: bool) -> None:
    # The old TF2 library and `padded_batch` pad labels with 0 (the blank); XLA drops the label assertions, so the
    # padding must be read right rather than refused only in graph mode.
    import keras

    inputs = keras.Input((20, 4))
    model = keras.Model(inputs, keras.layers.Dense(6)(inputs))
    model.compile(loss=CTCLoss(blank_id=0), jit_compile=jit_compile)
    x = np.random.default_rng(0).normal(size=(3, 20, 4)).astype(np.float32)
    minus_100 = np.array([[1, 2, 3, -100], [2, 2, -100, -100], [5, 4, 3, 2]])
    zeros = np.where(minus_100 < 0, 0, minus_100)

    expected = model.evaluate(x, minus_100, verbose=0)
    assert model.evaluate(x, zeros, verbose=0) == pytest.approx(expected, rel=1e-6)


def test_a_blank_before_the_last_target_is_refused_under_xla_too() -> None:
    logits = np.zeros((2, 10, 5), np.float32)
    labels = np.array([[1, 0, 2], [1, 2, -100]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="blank id 0 before a row's last target"):
        CTCLoss()(labels, logits, logit_length=[10, 10])
    # XLA cannot raise: the refused row's loss is NaN, so the step shows it instead of training on it.
    compiled = tf.function(lambda y, p: CTCLoss().per_utterance(y, p), jit_compile=True)
    losses = compiled(tf.constant(labels), tf.constant(logits)).numpy()
    assert np.isnan(losses[0]) and np.isfinite(losses[1])
