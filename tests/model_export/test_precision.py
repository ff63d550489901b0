"""`--precision bfloat16`: the SavedModel computes in bfloat16, stays close to float32, and verifies as such."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from model_export.errors import ExportError, VerificationError
from model_export.export import export_saved_model
from model_export.precision import compute_dtype, with_precision
from model_export.verify import LOGIT_RTOL_BY_PRECISION, pad_like_tf_serving, verify_export


@pytest.fixture(scope="module")
def bf16_export(exported_group, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out_dir = tmp_path_factory.mktemp("bf16")
    return export_saved_model(exported_group.model, exported_group.processor, out_dir, "tiny", 1, "bfloat16")


def logits_of(logits_signature, speech: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    audio, audio_length = pad_like_tf_serving(speech)
    outputs = logits_signature(audio=tf.constant(audio), audio_length=tf.constant(audio_length))
    return outputs["logits"].numpy(), outputs["logit_length"].numpy()


@pytest.mark.slow
def test_bfloat16_export_is_close_to_float32_but_not_equal(exported_group, bf16_export, speech) -> None:
    ref, ref_length = logits_of(exported_group.signature("logits"), speech)
    got, got_length = logits_of(tf.saved_model.load(str(bf16_export)).signatures["logits"], speech)
    np.testing.assert_array_equal(got_length, ref_length)
    for row, num_frames in enumerate(ref_length):
        expected, actual = ref[row, :num_frames], got[row, :num_frames]
        relative = np.abs(actual - expected).max() / np.abs(expected).max()
        # Not float32 in disguise (that would be ~1e-6), and within what 8 significant bits allow.
        assert 1e-4 < relative < LOGIT_RTOL_BY_PRECISION["bfloat16"]
        assert (actual.argmax(-1) == expected.argmax(-1)).mean() > 0.9


def test_verify_accepts_bfloat16_export_against_float32_model(exported_group, bf16_export) -> None:
    report = verify_export(bf16_export, exported_group.model, exported_group.processor, precision="bfloat16")
    assert report.precision == "bfloat16"
    assert 0 < report.max_relative_logit_diff < LOGIT_RTOL_BY_PRECISION["bfloat16"]
    assert report.argmax_agreement > 0.9
    # The float32 tolerance must reject it: the bfloat16 ops really are in the graph.
    with pytest.raises(VerificationError, match="logits differ"):
        verify_export(bf16_export, exported_group.model, exported_group.processor, precision="float32")


def test_verify_rejects_a_bfloat16_export_of_other_weights(exported_group, bf16_export) -> None:
    bias = exported_group.model.lm_head.bias
    original = bias.numpy()
    try:
        bias.assign(original + np.linspace(0.0, 1.0, original.shape[0], dtype=np.float32))
        with pytest.raises(VerificationError, match="logits differ"):
            verify_export(bf16_export, exported_group.model, exported_group.processor, precision="bfloat16")
    finally:
        bias.assign(original)


def test_with_precision_copies_and_leaves_the_float32_model_alone(exported_group) -> None:
    model = exported_group.model
    copy = with_precision(model, "bfloat16")
    assert compute_dtype(copy) == "bfloat16" and compute_dtype(model) == "float32"
    assert with_precision(model, "float32") is model
    for source, copied in zip(model.weights, copy.weights, strict=True):
        np.testing.assert_array_equal(source.numpy(), copied.numpy())  # float32 variables, exact weights


def test_unknown_precision_is_an_export_error_before_anything_is_written(exported_group, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="'float16' is not one of"):
        export_saved_model(exported_group.model, exported_group.processor, tmp_path, "tiny", 1, "float16")
    assert not any(tmp_path.iterdir())
