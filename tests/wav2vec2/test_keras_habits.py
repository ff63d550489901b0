"""What a Keras or TensorFlow user does with a model by habit works, or fails at once naming the call to use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.support.tiny_models import SMALL_BASE_STYLE
from wav2vec2 import Wav2Vec2Config, Wav2Vec2ForCTC, Wav2Vec2ForPreTraining, Wav2Vec2Model

ROOT = Path(__file__).resolve().parents[2]
ONE_LAYER = dict(SMALL_BASE_STYLE, num_hidden_layers=1)
PRETRAINING = dict(
    ONE_LAYER, num_codevector_groups=2, num_codevectors_per_group=8, codevector_dim=16, proj_codevector_dim=16,
    num_negatives=5,
)  # fmt: skip
AUDIO = np.random.default_rng(0).normal(size=(2, 4000)).astype(np.float32)


@pytest.fixture(scope="module")
def ctc_model() -> Wav2Vec2ForCTC:
    keras.utils.set_random_seed(0)
    return Wav2Vec2ForCTC(Wav2Vec2Config(**ONE_LAYER)).build_weights()


def test_tf_saved_model_save_and_keras_export_serve_the_models_logits(ctc_model, tmp_path: Path) -> None:
    expected = ctc_model(AUDIO).numpy()

    tf.saved_model.save(ctc_model, str(tmp_path / "saved"))
    serving = tf.saved_model.load(str(tmp_path / "saved")).signatures["serving_default"]
    (logits,) = serving(inputs=tf.constant(AUDIO)).values()
    np.testing.assert_allclose(logits.numpy(), expected, atol=1e-5)

    ctc_model.export(str(tmp_path / "exported"))
    exported = tf.saved_model.load(str(tmp_path / "exported"))
    np.testing.assert_allclose(exported.serve(AUDIO[:1, :3000]).numpy(), ctc_model(AUDIO[:1, :3000]), atol=1e-5)


def test_a_keras_file_loads_after_a_plain_import_wav2vec2(ctc_model, tmp_path: Path) -> None:
    ctc_model.save(tmp_path / "model.keras")
    script = f"import keras, wav2vec2; print(type(keras.models.load_model({str(tmp_path / 'model.keras')!r})))"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "wav2vec2.model.Wav2Vec2ForCTC" in done.stdout


def test_the_body_loads_from_a_checkpoint_like_the_task_models(ctc_model, tmp_path: Path) -> None:
    ctc_model.save_pretrained(tmp_path)
    body = Wav2Vec2Model.from_pretrained(tmp_path)
    np.testing.assert_allclose(body(AUDIO).numpy(), ctc_model.wav2vec2(AUDIO).numpy(), atol=1e-6)


def test_the_pretraining_model_takes_one_utterance_and_round_trips_a_keras_file(tmp_path: Path) -> None:
    keras.utils.set_random_seed(0)
    model = Wav2Vec2ForPreTraining(Wav2Vec2Config(**PRETRAINING)).build_weights()
    batch_of_one = model(AUDIO[:1])["projected_states"].numpy()
    np.testing.assert_array_equal(model(AUDIO[0])["projected_states"].numpy(), batch_of_one)

    model.save(tmp_path / "model.keras")
    reloaded = keras.models.load_model(tmp_path / "model.keras")
    assert isinstance(reloaded, Wav2Vec2ForPreTraining) and reloaded.config == model.config
    np.testing.assert_array_equal(reloaded(AUDIO[:1])["projected_states"].numpy(), batch_of_one)

    model.compile(keras.optimizers.Adam(1e-3))
    with pytest.raises(TypeError, match=r"does not train with fit\(\).*Run `asr pretrain`, or Trainer"):
        model.fit(AUDIO, epochs=1)
