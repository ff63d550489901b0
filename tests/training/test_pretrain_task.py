"""Pretraining under the Trainer: audio-only input, resume, the Gumbel schedule, an HF-loadable result."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from tests.training.synthetic_speech import TINY_MODEL
from training.config import TrainConfig
from training.data.pipeline import InputConfig, build_dataset
from training.data.sources import Utterance, audio_folder_utterances, manifest_utterances
from training.pretrain_task import GumbelSchedule, PretrainTask, codevector_usage
from training.trainer import Trainer
from wav2vec2 import Wav2Vec2Config, Wav2Vec2ForCTC, Wav2Vec2ForPreTraining

PRETRAINING_FIELDS = {
    "num_codevector_groups": 2, "num_codevectors_per_group": 8, "codevector_dim": 16, "proj_codevector_dim": 16,
    "num_negatives": 5,
}  # fmt: skip


def pretrain_config(tone_corpus: dict[str, str], out_dir: Path, steps: int) -> TrainConfig:
    model_path = Path(tone_corpus["root"]) / "pretraining_model.json"
    model_path.write_text(json.dumps(TINY_MODEL | PRETRAINING_FIELDS))
    return TrainConfig(
        out_dir=str(out_dir), train_data=tone_corpus["data"], model_config=str(model_path), steps=steps,
        batch_size=2, learning_rate=1e-3, warmup_steps=1, log_every=1, checkpoint_every=2, shuffle_buffer=4,
        freeze_feature_extractor=False, max_gumbel_temperature=2.0, min_gumbel_temperature=0.5,
        gumbel_temperature_decay=0.5, pretrain_mask_time_length=3, precision="float32", strategy="default",
    )  # fmt: skip


def test_pretraining_resumes_anneals_the_temperature_and_writes_an_hf_pretraining_checkpoint(
    tone_corpus: dict[str, str], tmp_path: Path
) -> None:
    config = pretrain_config(tone_corpus, tmp_path / "run", steps=2)
    result = Trainer(config, task=PretrainTask(config)).train(progress=False)
    assert result.step == 2 and np.isfinite(result.loss)
    assert {"contrastive_loss", "diversity_loss", "codevector_perplexity", "codevector_usage"} <= set(result.metrics)
    assert result.metrics["gumbel_temperature"] == pytest.approx(1.0)  # 2 × 0.5^1 at the second step

    config = pretrain_config(tone_corpus, tmp_path / "run", steps=4)
    trainer = Trainer(config, task=PretrainTask(config))
    assert trainer.restore() == 2
    result = trainer.train(progress=False)
    assert result.step == 4
    assert result.metrics["gumbel_temperature"] == pytest.approx(0.5)  # floored at the minimum

    import transformers

    final = tmp_path / "run" / "final"
    hf_model = transformers.Wav2Vec2ForPreTraining.from_pretrained(final)
    ours = Wav2Vec2ForPreTraining.from_pretrained(final)
    np.testing.assert_array_equal(hf_model.quantizer.codevectors.detach().numpy(), ours.quantizer.codevectors.numpy())
    ctc = Wav2Vec2ForCTC.from_pretrained(final, vocab_size=7)
    np.testing.assert_array_equal(
        ctc.wav2vec2.encoder.layers[0].attention.q_proj.kernel.numpy(),
        trainer.model.wav2vec2.encoder.layers[0].attention.q_proj.kernel.numpy(),
    )


def test_audio_only_batches_from_unlabelled_records(tmp_path: Path) -> None:
    from tests.training.synthetic_speech import tone, write_wav
    from training.data.tfrecords import write_tfrecords

    items = [Utterance(f"u{i}", write_wav(tmp_path / f"u{i}.wav", tone(300, 0.3 + 0.1 * i)), "") for i in range(3)]
    write_tfrecords(items, str(tmp_path / "rec"), progress=False)
    config = InputConfig(file_pattern=str(tmp_path / "rec" / "*"), global_batch_size=3, training=False)
    model_config = Wav2Vec2Config()
    from wav2vec2.lengths import frame_lengths

    batch = next(iter(build_dataset(config, None, lambda n: frame_lengths(n, model_config))))
    assert set(batch) == {"audio", "audio_length"}
    assert sorted(batch["audio_length"].numpy().tolist()) == [4800, 6400, 8000]


def test_unlabelled_sources_folder_and_path_only_manifest(tmp_path: Path) -> None:
    from tests.training.synthetic_speech import tone, write_wav

    write_wav(tmp_path / "a" / "x.wav", tone(200, 0.2))
    write_wav(tmp_path / "a" / "sub" / "y.wav", tone(200, 0.2))
    (tmp_path / "a" / "notes.txt").write_text("not audio")
    items = list(audio_folder_utterances(tmp_path / "a"))
    assert [(u.utterance_id, u.transcript) for u in items] == [("sub/y", ""), ("x", "")]

    (tmp_path / "paths.tsv").write_text("a/x.wav\na/sub/y.wav\n")
    assert all(isinstance(u, Utterance) for u in manifest_utterances(tmp_path / "paths.tsv", unlabelled=True))
    assert not any(isinstance(u, Utterance) for u in manifest_utterances(tmp_path / "paths.tsv"))


def test_gumbel_schedule_and_codevector_usage() -> None:
    schedule = GumbelSchedule(2.0, 0.5, 0.999995)
    assert schedule(0) == 2.0
    assert schedule(100_000) == pytest.approx(2.0 * 0.999995**100_000)
    assert schedule(10_000_000) == 0.5
    ids = tf.constant([[[0, 1], [0, 2], [3, 3]]])  # [batch 1, frames 3, groups 2]
    valid = tf.constant([[True, True, False]])
    assert float(codevector_usage(ids, valid, num_vars=4)) == pytest.approx(3 / 8)  # {0} ∪ {1, 2} of 8
