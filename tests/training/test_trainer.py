"""The training loop on a tiny model: it learns, it resumes where it stopped, it leaves frozen weights alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from training.config import TrainConfig
from training.trainer import Trainer


def config(corpus: dict[str, str], out: Path, **changes) -> TrainConfig:
    values = dict(
        out_dir=str(out), train_data=corpus["data"], model_config=corpus["model"], vocab=corpus["vocab"],
        steps=6, batch_size=2, learning_rate=3e-3, warmup_steps=10, weight_decay=0.0, log_every=3,
        checkpoint_every=3, eval_every=1000, shuffle_buffer=8, deterministic=True, seed=1, strategy="default",
        freeze_feature_extractor=False, precision="float32",
    )  # fmt: skip
    return TrainConfig(**(values | changes))


def weights(trainer: Trainer) -> list[np.ndarray]:
    return [v.numpy() for v in trainer.model.weights]


@pytest.mark.slow
def test_tiny_model_overfits_to_exact_transcripts(tone_corpus: dict[str, str], tmp_path: Path) -> None:
    trainer = Trainer(
        config(
            tone_corpus,
            tmp_path,
            steps=100,
            warmup_steps=10,
            log_every=50,
            eval_data=tone_corpus["data"],
            eval_every=100,
            checkpoint_every=100,
        )
    )
    result = trainer.train(progress=False)

    ((step, report),) = result.evaluations
    assert step == 100
    assert [(u.reference, u.hypothesis) for u in report.utterances if u.reference != u.hypothesis] == []
    assert report.wer == 0.0 and len(report.utterances) == 4
    assert (tmp_path / "best" / "model.safetensors").exists() and (tmp_path / "final" / "vocab.json").exists()


@pytest.mark.slow
def test_resume_continues_from_the_saved_step_and_data_position(tone_corpus: dict[str, str], tmp_path: Path) -> None:
    # A constant learning rate, so that a run stopped at step 3 trains exactly like the first half of 6.
    constant = dict(warmup_steps=0, decay="constant")
    straight = Trainer(config(tone_corpus, tmp_path / "straight", steps=6, **constant))
    straight.train(progress=False)  # checkpoints at steps 3 and 6
    # A run that died after its step-3 checkpoint: the same directory, as it was before step 6 was written.
    shutil.copytree(tmp_path / "straight", tmp_path / "resumed")
    checkpoints = tmp_path / "resumed" / "checkpoints"
    for step_6_file in checkpoints.glob("ckpt-6.*"):
        step_6_file.unlink()
    step_3 = str(checkpoints / "ckpt-3")
    tf.compat.v1.train.update_checkpoint_state(str(checkpoints), step_3, all_model_checkpoint_paths=[step_3])

    resumed = Trainer(config(tone_corpus, tmp_path / "resumed", steps=6, **constant))
    assert resumed.restore() == 3
    assert not all(np.array_equal(w, v) for w, v in zip(weights(resumed), weights(straight), strict=True))
    result = resumed.train(progress=False)

    assert result.step == 6
    for resumed_weight, uninterrupted in zip(weights(resumed), weights(straight), strict=True):
        # Equal only if the step-3 weights, optimizer state and data position were all restored.
        np.testing.assert_allclose(resumed_weight, uninterrupted, rtol=1e-4, atol=1e-6)


def test_xla_compiled_fixed_shape_steps_train_with_spec_augment_and_a_frozen_feature_extractor(
    tone_corpus: dict[str, str], tmp_path: Path
) -> None:
    # The TPU path (`--fixed-shape --jit`): every shape, SpecAugment's span count included, must be static.
    # With the feature extractor frozen (fine-tuning's default), which must then not move while the rest learns.
    trainer = Trainer(
        config(
            tone_corpus,
            tmp_path,
            steps=3,
            fixed_shape=True,
            jit_compile=True,
            max_duration_s=3.0,
            max_label_length=16,
            config_overrides={"mask_time_prob": 0.3, "mask_time_length": 2},
            freeze_feature_extractor=True,
        )
    )
    conv = trainer.model.wav2vec2.feature_extractor
    frozen_before = [v.numpy() for v in conv.weights]
    head_before = trainer.model.lm_head.kernel.numpy()

    result = trainer.train(progress=False)

    assert result.step == 3 and np.isfinite(result.loss)
    assert not np.allclose(head_before, trainer.model.lm_head.kernel.numpy())
    assert frozen_before
    for before, variable in zip(frozen_before, conv.weights, strict=True):
        np.testing.assert_array_equal(before, variable.numpy())


def test_bad_run_options_are_config_errors(tone_corpus: dict[str, str], tmp_path: Path) -> None:
    from training.errors import ConfigError

    with pytest.raises(ConfigError, match="exactly one"):
        config(tone_corpus, tmp_path, pretrained="x")
    with pytest.raises(ConfigError, match="strategy"):
        config(tone_corpus, tmp_path, strategy="horovod")
