"""Model behaviour users and the trainer rely on: input forms, `fit` on padded batches, freezing, config and
Keras round trips, clear errors, SpecAugment."""

from __future__ import annotations

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.support.tiny_models import SMALL_BASE_STYLE
from wav2vec2 import CheckpointNotFoundError, CTCLoss, Wav2Vec2Config, Wav2Vec2ForCTC, Wav2Vec2Processor
from wav2vec2.lengths import frame_lengths, receptive_field
from wav2vec2.spec_augment import compute_span_mask


def small_model(**overrides) -> Wav2Vec2ForCTC:
    return Wav2Vec2ForCTC(Wav2Vec2Config(**{**SMALL_BASE_STYLE, **overrides})).build_weights()


def test_frozen_feature_extractor_does_not_move_in_a_train_step():
    tf.keras.utils.set_random_seed(0)
    model = small_model(layerdrop=0.0)
    model.freeze_feature_extractor()
    frozen = [w.numpy().copy() for w in model.wav2vec2.feature_extractor.weights]
    trained = [w.numpy().copy() for w in model.lm_head.weights]
    audio = tf.random.normal([2, 4000])
    labels = tf.constant([[5, 6, 7], [8, 9, -100]])
    optimizer = tf.keras.optimizers.Adam(1e-2)
    loss_fn = CTCLoss()
    with tf.GradientTape() as tape:
        loss = loss_fn(labels, model(audio, training=True), logit_length=frame_lengths([4000, 4000], model.config))
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
    encoder_weights = model.wav2vec2.feature_extractor.weights
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(frozen, encoder_weights, strict=True))
    assert any(not np.array_equal(a, w.numpy()) for a, w in zip(trained, model.lm_head.weights, strict=True))
    assert not any(w is v for w in model.wav2vec2.feature_extractor.weights for v in model.trainable_variables)


def test_grouped_positional_conv_trains_on_cpu_in_graph_mode():
    model = small_model()

    @tf.function
    def step(audio):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(audio, training=True)))
        return tape.gradient(loss, model.wav2vec2.encoder.pos_conv_embed.weight_v)

    gradient = step(tf.random.normal([2, 3000]))
    assert np.isfinite(gradient.numpy()).all() and np.abs(gradient.numpy()).sum() > 0


def test_frame_length_formula():
    config = Wav2Vec2Config()
    assert frame_lengths([16000, 400, 399], config).numpy().tolist() == [49, 1, 0]
    assert receptive_field(config) == 400
    model = small_model()
    assert model(np.zeros((1, 16000), np.float32)).shape[1] == int(frame_lengths(16000, model.config))


def test_config_json_round_trip_keeps_unknown_fields(tmp_path):
    path = tmp_path / "config.json"
    values = Wav2Vec2Config(**SMALL_BASE_STYLE).to_dict() | {"some_future_field": 3}
    path.write_text(json.dumps(values))
    config = Wav2Vec2Config.from_json_file(path)
    config.to_json_file(tmp_path / "again.json")
    assert json.loads((tmp_path / "again.json").read_text())["some_future_field"] == 3
    assert config.conv_kernel == (10, 3, 3)


def test_invalid_config_names_the_value_and_the_choices():
    with pytest.raises(ValueError, match="feat_extract_norm='batch'.*'group', 'layer'"):
        Wav2Vec2Config(feat_extract_norm="batch")


def test_missing_checkpoint_gives_a_clear_error(tmp_path):
    with pytest.raises(CheckpointNotFoundError, match="no config.json"):
        Wav2Vec2ForCTC.from_pretrained(tmp_path)
    with pytest.raises(CheckpointNotFoundError, match="could not be fetched"):
        Wav2Vec2ForCTC.from_pretrained("nobody-here/no-such-model")


def test_new_vocab_size_keeps_body_and_reinitialises_head(tmp_path):
    model = small_model()
    model.save_pretrained(tmp_path)
    bigger = Wav2Vec2ForCTC.from_pretrained(tmp_path, vocab_size=40)
    assert bigger.lm_head.kernel.shape[-1] == 40
    np.testing.assert_array_equal(
        bigger.wav2vec2.feature_projection.projection.kernel.numpy(),
        model.wav2vec2.feature_projection.projection.kernel.numpy(),
    )


def test_spec_augment_masks_about_the_configured_fraction():
    lengths = tf.constant([500] * 64)
    mask = compute_span_mask(lengths, 600, mask_prob=0.3, mask_length=10, seed=tf.constant([1, 2]))
    fraction = float(tf.reduce_mean(tf.cast(mask[:, :500], tf.float32)))
    assert 0.18 < fraction < 0.32  # overlapping spans cover a little less than mask_prob
    assert not bool(tf.reduce_any(mask[:, 500:]))


def test_training_call_differs_and_inference_is_deterministic():
    model = small_model(mask_time_prob=0.5, mask_time_length=2, hidden_dropout=0.0, layerdrop=0.0)
    audio = np.random.default_rng(0).normal(size=(1, 8000)).astype(np.float32)
    np.testing.assert_array_equal(model(audio).numpy(), model(audio).numpy())
    assert not np.allclose(model(audio, training=True).numpy(), model(audio).numpy())


def test_one_utterance_without_a_batch_axis_is_a_batch_of_one():
    model = small_model()
    speech = np.random.default_rng(0).normal(size=6000).astype(np.float32)
    np.testing.assert_array_equal(model(speech).numpy(), model(speech[None, :]).numpy())
    with pytest.raises(ValueError, match=r"expected audio of shape \[batch, samples\]"):
        model(np.zeros((1, 2, 6000), np.float32))


def fit_ready_model() -> Wav2Vec2ForCTC:
    """A small model without dropout, LayerDrop or SpecAugment, so a training step's loss is deterministic."""
    keras.utils.set_random_seed(0)
    no_noise = dict(hidden_dropout=0.0, activation_dropout=0.0, attention_dropout=0.0, final_dropout=0.0,
                    layerdrop=0.0, apply_spec_augment=False, vocab_size=8, num_hidden_layers=1)  # fmt: skip
    return small_model(**no_noise)


def padded_batch() -> tuple[dict[str, np.ndarray], np.ndarray, list[np.ndarray]]:
    """Three utterances of different lengths, zero-padded, with labels of different lengths padded with -100."""
    rng = np.random.default_rng(1)
    utterances = [rng.normal(size=n).astype(np.float32) for n in (9000, 5200, 2600)]
    labels = np.array([[5, 6, 5, 7, 6], [7, 7, 5, -100, -100], [6, -100, -100, -100, -100]], np.int64)
    batch = Wav2Vec2Processor().pad(utterances)
    return {"audio": batch.audio, "audio_length": batch.audio_length}, labels, utterances


def test_fit_on_a_padded_batch_is_the_sum_of_each_utterance_alone_and_learns():
    model = fit_ready_model()
    inputs, labels, utterances = padded_batch()
    processor, loss = Wav2Vec2Processor(), CTCLoss(blank_id=0, reduction_mode="sum")
    alone = [
        float(loss(labels[row : row + 1], model(processor(utterance)))) for row, utterance in enumerate(utterances)
    ]
    dataset = tf.data.Dataset.from_tensors((inputs, labels))

    model.compile(keras.optimizers.Adam(3e-3))  # no loss: the model's own CTC loss, reduction "sum" as HF's
    assert model.evaluate(dataset, verbose=0) == pytest.approx(sum(alone), rel=1e-5)
    history = model.fit(dataset.repeat(), epochs=8, steps_per_epoch=1, verbose=0).history["loss"]

    assert history[0] == pytest.approx(sum(alone), rel=1e-5)  # the first step's loss, before any update
    assert history[-1] < 0.7 * history[0]  # it learns: 1789 → 380 measured


def test_the_models_own_loss_reads_labels_padded_with_the_blank_id_as_padding():
    model = fit_ready_model()
    inputs, labels, _ = padded_batch()
    old_style = np.where(labels < 0, 0, labels)  # the TF2 library padded labels with 0, the CTC blank
    model.compile(keras.optimizers.Adam(1e-3))
    # `fit` and `evaluate` share `compute_loss`; `evaluate` traces it in a graph at a fifth of fit's tracing time.
    expected = model.evaluate(tf.data.Dataset.from_tensors((inputs, labels)), verbose=0)
    assert model.evaluate(tf.data.Dataset.from_tensors((inputs, old_style)), verbose=0) == pytest.approx(expected)
    with pytest.raises(tf.errors.InvalidArgumentError, match="pad label rows with -100"):
        model.evaluate(tf.data.Dataset.from_tensors((inputs, np.where(labels < 0, 0, labels)[:, ::-1])), verbose=0)


def test_fit_on_an_unbatched_dataset_of_speech_and_labels_trains_one_utterance_a_step():
    # How the blog post builds its dataset: one (speech [samples], labels [n]) pair per element, no batch axis.
    model = fit_ready_model()
    _, labels, utterances = padded_batch()
    rows = [(speech, row[row >= 0]) for speech, row in zip(utterances, labels, strict=True)]
    spec = (tf.TensorSpec([None], tf.float32), tf.TensorSpec([None], tf.int64))
    dataset = tf.data.Dataset.from_generator(lambda: iter(rows), output_signature=spec)
    loss = CTCLoss(blank_id=0, reduction_mode="sum")
    alone = [float(loss(row[None], model(speech))) for speech, row in rows]
    model.compile(keras.optimizers.SGD(0.0))

    # Each element is a batch of one: its loss is that utterance's. (Keras weighs the epoch's mean by the leading
    # dimension of x, here the samples, so compare one element's loss, not the epoch's.)
    assert model.evaluate(dataset.take(1), verbose=0) == pytest.approx(alone[0], rel=1e-5)
    assert np.isfinite(model.fit(dataset, epochs=1, verbose=0).history["loss"][0])


def test_old_compile_signature_shows_the_new_form():
    model = small_model()
    with pytest.raises(TypeError, match=r"model.compile\(optimizer\)"):
        model.compile(keras.optimizers.Adam(1e-3), loss_fn=CTCLoss())


def test_keras_file_round_trip_keeps_the_config_and_the_function(tmp_path):
    model = small_model()
    model.save(tmp_path / "model.keras")
    reloaded = keras.models.load_model(tmp_path / "model.keras")
    audio = np.random.default_rng(2).normal(size=(2, 5000)).astype(np.float32)
    assert isinstance(reloaded, Wav2Vec2ForCTC) and reloaded.config == model.config
    np.testing.assert_array_equal(reloaded(audio).numpy(), model(audio).numpy())
    for layer in model._flatten_layers(include_self=False):  # every layer, not only the top one
        assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config(), layer.name


MIRRORED_FIT = """
import sys
import numpy as np, tensorflow as tf
from tests.support.test_process import configure_tensorflow
configure_tensorflow(logical_cpus=2)
import keras
from tests.wav2vec2.test_model import padded_batch, small_model
inputs, labels, _ = padded_batch()
inputs = {name: np.concatenate([value, value[::-1]]) for name, value in inputs.items()}  # 6 rows: 3 per replica
dataset = tf.data.Dataset.from_tensors((inputs, np.concatenate([labels, labels[::-1]])))
for strategy in (tf.distribute.get_strategy(), tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])):
    with strategy.scope():
        keras.utils.set_random_seed(0)
        model = small_model(vocab_size=8, num_hidden_layers=1, layerdrop=0.0, apply_spec_augment=False,
                            ctc_loss_reduction="mean", hidden_dropout=0.0, activation_dropout=0.0,
                            attention_dropout=0.0, final_dropout=0.0)
        model.compile(keras.optimizers.SGD(1e-3))
    before = model.lm_head.bias.numpy().copy()
    loss = model.fit(dataset, epochs=1, verbose=0).history["loss"][0]
    print(loss, *(model.lm_head.bias.numpy() - before))
"""


@pytest.mark.slow
def test_fit_under_two_replicas_gives_the_single_replica_loss_and_update():
    """ "mean" reduction under MirroredStrategy: each replica's share is scaled as Keras scales its own losses."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", MIRRORED_FIT], cwd=root, capture_output=True, text=True,
                            timeout=600, env={**os.environ, "PYTHONPATH": str(root)})  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    single, mirrored = (np.array(line.split(), float) for line in result.stdout.strip().splitlines()[-2:])
    np.testing.assert_allclose(mirrored, single, rtol=1e-4, atol=1e-7)
