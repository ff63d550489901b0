"""Training the conv feature encoder: its gradients equal TensorFlow's own and Hugging Face PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import torch

from tests.support.hf_checkpoints import random_hf_model
from tests.support.tiny_models import SMALL_BASE_STYLE, SMALL_LV60_STYLE, tiny_config
from wav2vec2 import Wav2Vec2ForCTC
from wav2vec2.strided_conv import conv1d_with_matmul_gradients


@pytest.mark.parametrize(
    ("taps", "stride", "steps"),
    [(10, 5, 163), (3, 2, 64), (3, 2, 65), (2, 2, 41), (4, 4, 50), (2, 3, 20)],
    ids=["block-0", "3-taps", "3-taps-odd", "2-taps", "taps-equal-stride", "gap-between-windows"],
)
def test_gradients_equal_tensorflows_convolution(taps: int, stride: int, steps: int) -> None:
    rng = np.random.default_rng(taps * 100 + steps)
    x = tf.constant(rng.normal(size=(2, steps, 3)).astype(np.float32))
    kernel = tf.constant(rng.normal(size=(taps, 3, 5)).astype(np.float32))
    frames = (steps - taps) // stride + 1
    upstream = tf.constant(rng.normal(size=(2, frames, 5)).astype(np.float32))  # every output weighted differently

    results = []
    for conv in (
        lambda x, w: tf.nn.conv1d(x, w, stride, "VALID"),
        lambda x, w: conv1d_with_matmul_gradients(x, w, stride),
    ):
        with tf.GradientTape() as tape:
            tape.watch([x, kernel])
            y = conv(x, kernel)
        results.append([y, *tape.gradient(y, [x, kernel], output_gradients=upstream)])
    for ours, reference in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(ours.numpy(), reference.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("architecture", [SMALL_BASE_STYLE, SMALL_LV60_STYLE], ids=["base-style", "lv60-style"])
def test_training_gradients_of_the_conv_kernels_equal_pytorchs(tmp_path, architecture) -> None:
    reference = random_hf_model(seed=4, **architecture)
    reference.save_pretrained(tmp_path / "model")
    model = Wav2Vec2ForCTC.from_pretrained(tmp_path / "model")
    audio = np.random.default_rng(5).normal(size=(2, 1600)).astype(np.float32)
    weights_of_frames = np.random.default_rng(6).normal(size=(2, 79, architecture["conv_dim"][-1])).astype(np.float32)

    encoder = model.wav2vec2.feature_extractor
    with tf.GradientTape() as tape:
        features = encoder(tf.constant(audio), training=True)
        loss = tf.reduce_sum(features * weights_of_frames)
    kernels = [block.conv.kernel for block in encoder.conv_layers]
    ours = tape.gradient(loss, kernels)

    hf_encoder = reference.wav2vec2.feature_extractor.train()
    hf_features = hf_encoder(torch.from_numpy(audio)).transpose(1, 2)
    (hf_features * torch.from_numpy(weights_of_frames)).sum().backward()
    for index, (gradient, layer) in enumerate(zip(ours, hf_encoder.conv_layers, strict=True)):
        expected = layer.conv.weight.grad.permute(2, 1, 0).numpy()  # [out, in, k] -> Keras' [k, in, out]
        scale = float(np.abs(expected).max())
        assert float(np.abs(gradient.numpy() - expected).max()) <= 1e-4 * scale, f"conv block {index}"


def test_training_graph_has_no_tensorflow_convolution_gradients() -> None:
    """TensorFlow's convolution gradient kernels are slow on these shapes (the reason for strided_conv)."""
    model = Wav2Vec2ForCTC(tiny_config()).build_weights()
    encoder = model.wav2vec2.feature_extractor

    @tf.function
    def gradients(audio: tf.Tensor) -> list[tf.Tensor]:
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(encoder(audio, training=True)))
        return tape.gradient(loss, encoder.trainable_variables)

    graph = gradients.get_concrete_function(tf.TensorSpec([2, None], tf.float32)).graph
    op_types = {op.type for op in graph.get_operations()}
    assert "Conv2D" in op_types
    assert not op_types & {"Conv2DBackpropFilter", "Conv2DBackpropInput"}
