"""`verify_export` passes on a faithful export and fails loudly when the SavedModel and Python model differ."""

from __future__ import annotations

import numpy as np
import pytest

from model_export.errors import VerificationError
from model_export.verify import LOGIT_RTOL, verify_export


@pytest.mark.slow
def test_verification_passes_on_the_exported_model(exported_group) -> None:
    report = verify_export(exported_group.path, exported_group.model, exported_group.processor)
    assert report.num_utterances == 4
    assert report.max_relative_logit_diff < LOGIT_RTOL
    assert report.num_warmup_records > 0


def test_verification_fails_when_the_weights_differ(exported_group) -> None:
    bias = exported_group.model.lm_head.bias
    original = bias.numpy()
    try:
        bias.assign(original + np.linspace(0.0, 1.0, original.shape[0], dtype=np.float32))
        with pytest.raises(VerificationError, match="logits differ"):
            verify_export(exported_group.path, exported_group.model, exported_group.processor)
    finally:
        bias.assign(original)
