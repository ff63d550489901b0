"""TFRecords → batches: tokenisation, filters, bucketing, fixed shapes, determinism, per-worker sharding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from tests.training.synthetic_speech import tone, write_wav
from training.data.pipeline import InputConfig, build_dataset, make_char_lookup
from training.data.sources import manifest_utterances
from training.data.tfrecords import write_tfrecords
from training.errors import ConfigError, DataError
from wav2vec2.config import Wav2Vec2Config
from wav2vec2.lengths import frame_lengths
from wav2vec2.tokenizer import Wav2Vec2CTCTokenizer

TOKENIZER = Wav2Vec2CTCTokenizer()
CONFIG = Wav2Vec2Config()


def frames(samples: tf.Tensor) -> tf.Tensor:
    return frame_lengths(samples, CONFIG)


@pytest.fixture
def shards(tone_manifest: Path, tmp_path: Path) -> str:
    write_tfrecords(manifest_utterances(tone_manifest), str(tmp_path / "rec"), shard_size=3, progress=False)
    return str(tmp_path / "rec" / "*.tfrecord")


def batches(config: InputConfig, **kwargs) -> list[dict]:
    dataset = build_dataset(config, TOKENIZER, frames, **kwargs)
    return [{k: v.numpy() for k, v in batch.items()} for batch in dataset]


@pytest.mark.parametrize("text", ["hello world", "  Don't   stop\tnow ", "naïve café", "", "Q"])
def test_graph_tokenisation_equals_tokenizer_encode(text: str) -> None:
    encode = make_char_lookup(TOKENIZER)
    assert encode(tf.constant(text)).numpy().tolist() == TOKENIZER.encode(text)


def test_bucketing_groups_similar_lengths(tone_manifest: Path, tmp_path: Path) -> None:
    # 40 utterances of 0.2 .. 8 s in random order; buckets at 1, 2, 4 s.
    rng = np.random.default_rng(3)
    lines = []
    for index, duration_s in enumerate(rng.permutation(np.linspace(0.2, 8.0, 40))):
        write_wav(tmp_path / "b" / f"{index}.wav", tone(300, duration_s))
        lines.append(f"b/{index}.wav\tAB")
    (tmp_path / "b.tsv").write_text("\n".join(lines))
    write_tfrecords(manifest_utterances(tmp_path / "b.tsv"), str(tmp_path / "brec"), shard_size=7, progress=False)
    config = InputConfig(
        str(tmp_path / "brec" / "*"),
        global_batch_size=4,
        training=False,
        bucket_boundaries_s=(1.0, 2.0, 4.0),
        max_duration_s=10.0,
        deterministic=True,
    )

    result = batches(config)

    assert sum(len(b["audio_length"]) for b in result) == 40
    edges = [0, 16_000, 32_000, 64_000, 10**9]
    for batch in result:
        lengths = batch["audio_length"]
        bucket = np.searchsorted(edges, lengths, side="left")  # a bucket holds lengths up to its bound
        assert len(set(bucket)) == 1, lengths
        # Padding only up to the longest member of the batch, and labels padded with 0 past their length.
        assert batch["audio"].shape[1] == lengths.max()
        assert np.all(batch["audio"][np.arange(batch["audio"].shape[1])[None, :] >= lengths[:, None]] == 0)
        assert batch["labels"].shape[1] == batch["label_length"].max()


def test_filters_by_duration_and_ctc_alignability(shards: str) -> None:
    config = InputConfig(
        shards,
        global_batch_size=64,
        training=False,
        min_duration_s=0.6,
        max_duration_s=2.0,
        bucket_boundaries_s=None,
        keep_text=True,
    )
    (batch,) = batches(config)
    assert batch["audio_length"].min() >= 9_600 and batch["audio_length"].max() <= 32_000
    assert len(batch["audio_length"]) == 7  # 0.7, 0.9, ..., 1.9 s
    # A 0.1 s utterance has 4 frames: a 9-character label cannot be aligned and must be dropped.
    tight = InputConfig(shards, global_batch_size=64, training=False, bucket_boundaries_s=None)
    (all_batch,) = batches(tight)
    assert np.all(frames(all_batch["audio_length"]).numpy() >= all_batch["label_length"])
    assert batch["transcript"].dtype == object


def test_fixed_shape_pads_to_bucket_bounds_and_label_cap(shards: str) -> None:
    config = InputConfig(
        shards,
        global_batch_size=2,
        training=True,
        seed=0,
        bucket_boundaries_s=(1.0,),
        max_duration_s=3.0,
        fixed_shape=True,
        max_label_length=16,
    )
    dataset = build_dataset(config, TOKENIZER, frames)
    shapes = {tuple(batch["audio"].shape) for batch in dataset.take(30)}
    assert shapes <= {(2, 16_000), (2, 48_000)}
    assert dataset.element_spec["labels"].shape.as_list() == [None, 16]


def test_deterministic_option_repeats_the_same_order(shards: str) -> None:
    config = InputConfig(
        shards, global_batch_size=3, training=True, seed=7, deterministic=True, bucket_boundaries_s=None, keep_text=True
    )
    first = [b["utterance_id"].numpy().tolist() for b in build_dataset(config, TOKENIZER, frames).take(8)]
    second = [b["utterance_id"].numpy().tolist() for b in build_dataset(config, TOKENIZER, frames).take(8)]
    assert first == second
    assert len({u for batch in first for u in batch}) == 12  # shuffled over every utterance, then repeated


def test_input_context_gives_each_worker_its_own_shards(shards: str) -> None:
    config = InputConfig(shards, global_batch_size=4, training=False, bucket_boundaries_s=None, keep_text=True)
    seen = []
    for pipeline_id in range(2):
        context = tf.distribute.InputContext(
            num_input_pipelines=2, input_pipeline_id=pipeline_id, num_replicas_in_sync=2
        )
        result = batches(config, input_context=context)
        assert max(len(b["utterance_id"]) for b in result) == 2  # per-replica batch = 4 / 2
        seen.append({u for b in result for u in b["utterance_id"].tolist()})
    assert not seen[0] & seen[1]


def test_bad_options_and_missing_files_raise_typed_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="bucket_boundaries_s"):
        InputConfig("x", global_batch_size=1, bucket_boundaries_s=(4.0, 2.0))
    with pytest.raises(DataError, match="no files match"):
        build_dataset(InputConfig(str(tmp_path / "none*"), global_batch_size=1), TOKENIZER, frames)


def test_a_run_and_the_pipeline_read_a_split_with_the_same_defaults() -> None:
    from training.config import TrainConfig
    from training.task import train_input_config

    run = train_input_config(TrainConfig(out_dir="o", train_data="d", model_config="c"), "d")
    library = InputConfig("d", global_batch_size=run.global_batch_size)
    for name in ("shuffle_buffer", "min_duration_s", "max_duration_s", "bucket_boundaries_s", "max_label_length"):
        assert getattr(run, name) == getattr(library, name), name
