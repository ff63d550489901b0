"""Batched training/evaluation input from TFRecord shards: a tf.data pipeline that streams, never downloads.

Files are listed with tf.io.gfile (local paths or gs://), read shard-interleaved, shuffled, parsed, tokenised
in the graph, filtered by duration and by whether CTC can align the label at all, bucketed by length so a batch
pads little, and prefetched. Batch element (all per replica):
- `audio`: float32 `[batch, samples]` in [-1, 1], zero padded (not yet normalised: the model side does that
  with the same function the export graph uses);
- `audio_length`: int32 `[batch]`; `labels`: int32 `[batch, label_len]` padded with 0; `label_length`: int32;
- with `keep_text`: `transcript` and `utterance_id`, string `[batch]` (evaluation only: TPUs take no strings).
Without a tokenizer (pretraining) a batch holds `audio` and `audio_length` only, and transcripts may be empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import tensorflow as tf

from training.data.input_defaults import BUCKET_BOUNDARIES_S, MAX_DURATION_S, MAX_LABEL_LENGTH, SHUFFLE_BUFFER
from training.data.tfrecords import parse_example
from training.errors import ConfigError, DataError
from wav2vec2 import SAMPLE_RATE_HZ
from wav2vec2.ctc_loss import ctc_min_frames
from wav2vec2.tokenizer import Wav2Vec2CTCTokenizer

FrameLengthFn = Callable[[tf.Tensor], tf.Tensor]


@dataclass(frozen=True)
class InputConfig:
    """How to read one split; `global_batch_size` is split across replicas by the input context."""

    file_pattern: str
    global_batch_size: int
    training: bool = True
    shuffle_buffer: int = SHUFFLE_BUFFER
    min_duration_s: float = 0.0
    max_duration_s: float = MAX_DURATION_S
    # Upper bounds (exclusive) of the length buckets; None pads every batch to its longest utterance.
    bucket_boundaries_s: tuple[float, ...] | None = BUCKET_BOUNDARIES_S
    # TPUs compile one program per shape: pad audio to the bucket bound (or max_duration_s) and labels to
    # max_label_length so only a handful of shapes ever occur.
    fixed_shape: bool = False
    max_label_length: int = MAX_LABEL_LENGTH
    # Drop utterances whose label CTC cannot align (too few frames); evaluation keeps them (they score badly).
    filter_unalignable: bool = True
    deterministic: bool = False
    seed: int | None = None
    cycle_length: int = 8
    keep_text: bool = False

    def __post_init__(self) -> None:
        if self.global_batch_size < 1:
            raise ConfigError(f"global_batch_size must be >= 1, got {self.global_batch_size}")
        if not 0 <= self.min_duration_s < self.max_duration_s:
            raise ConfigError(
                f"need 0 <= min_duration_s < max_duration_s, got {self.min_duration_s}, {self.max_duration_s}"
            )
        bounds = self.bucket_boundaries_s
        if bounds is not None and (not bounds or list(bounds) != sorted(set(bounds)) or bounds[0] <= 0):
            raise ConfigError(f"bucket_boundaries_s must be increasing positive seconds, got {bounds}")


def list_files(file_pattern: str) -> list[str]:
    """Returns the sorted files matching a comma-separated list of globs (local or gs://); raises if none."""
    files = sorted({path for pattern in file_pattern.split(",") if pattern for path in tf.io.gfile.glob(pattern)})
    if not files:
        raise DataError(f"no files match {file_pattern!r}")
    return files


def make_char_lookup(tokenizer: Wav2Vec2CTCTokenizer) -> Callable[[tf.Tensor], tf.Tensor]:
    """Returns a graph function text → int32 ids that gives what `tokenizer.encode(text)` gives.

    Tokenisation then runs inside tf.data (no Python per utterance): whitespace collapsed to the word
    delimiter, upper-cased when the tokenizer upper-cases, one id per character, unknown → `<unk>`.
    """
    vocab = tokenizer.vocab
    chars = [token for token in vocab if len(token) == 1]
    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            tf.constant(chars, tf.string), tf.constant([vocab[c] for c in chars], tf.int32)
        ),
        default_value=tokenizer.unk_token_id,
    )
    # Ask the tokenizer rather than restating its case rule, so the two cannot drift apart.
    uppercase = tokenizer.normalize_text("a") == "A"
    delimiter = tokenizer.word_delimiter_token

    def encode(text: tf.Tensor) -> tf.Tensor:
        text = tf.strings.strip(tf.strings.regex_replace(text, r"\s+", " "))
        if uppercase:
            text = tf.strings.upper(text, encoding="utf-8")
        text = tf.strings.regex_replace(text, " ", delimiter)
        return table.lookup(tf.strings.unicode_split(text, "UTF-8"))

    return encode


def ctc_alignable(label: tf.Tensor, num_frames: tf.Tensor) -> tf.Tensor:
    """True when `num_frames` can hold the (non-empty) label: `ctc_min_frames`, for one unbatched label."""
    return tf.logical_and(tf.size(label) > 0, num_frames >= ctc_min_frames(label[None, :])[0])


def _bucket(
    dataset: tf.data.Dataset, config: InputConfig, batch_size: int, padded_shapes: dict, padding_values: dict
) -> tf.data.Dataset:
    max_samples = int(config.max_duration_s * SAMPLE_RATE_HZ)
    # +1 because a bucket holds lengths < boundary and pad_to_bucket_boundary pads to boundary - 1.
    boundaries = [int(s * SAMPLE_RATE_HZ) + 1 for s in config.bucket_boundaries_s if s < config.max_duration_s]
    boundaries.append(max_samples + 1)
    return dataset.bucket_by_sequence_length(
        element_length_func=lambda example: example["audio_length"],
        bucket_boundaries=boundaries,
        bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
        padded_shapes=padded_shapes,
        padding_values=padding_values,
        pad_to_bucket_boundary=config.fixed_shape,
        drop_remainder=config.training,
    )


def build_dataset(
    config: InputConfig,
    tokenizer: Wav2Vec2CTCTokenizer | None,
    frame_length_fn: FrameLengthFn,
    input_context: tf.distribute.InputContext | None = None,
) -> tf.data.Dataset:
    """Returns the per-replica batched dataset of one split (the module docstring lists its elements).

    `frame_length_fn` maps sample counts to model frame counts (`wav2vec2.lengths.frame_lengths`), for the
    CTC alignability filter; `tokenizer=None` reads audio only (self-supervised pretraining). With an
    `input_context` (from `strategy.distribute_datasets_from_function`) each input pipeline reads its own subset of
    shards and batches `global_batch_size / replicas`.
    """
    files = list_files(config.file_pattern)
    batch_size = config.global_batch_size
    dataset = tf.data.Dataset.from_tensor_slices(files)
    shard_records = False
    if input_context is not None:
        batch_size = input_context.get_per_replica_batch_size(config.global_batch_size)
        if len(files) >= input_context.num_input_pipelines:
            dataset = dataset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        else:
            shard_records = True
    if config.training:
        dataset = dataset.shuffle(len(files), seed=config.seed, reshuffle_each_iteration=True)
    dataset = dataset.interleave(
        tf.data.TFRecordDataset,
        cycle_length=min(config.cycle_length, len(files)),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=config.deterministic or None,
    )
    if shard_records:
        dataset = dataset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
    if config.training:
        dataset = dataset.shuffle(config.shuffle_buffer, seed=config.seed, reshuffle_each_iteration=True)
        dataset = dataset.repeat()

    labelled = tokenizer is not None
    encode = make_char_lookup(tokenizer) if labelled else None
    min_samples = int(config.min_duration_s * SAMPLE_RATE_HZ)
    max_samples = int(config.max_duration_s * SAMPLE_RATE_HZ)
    max_label_length = config.max_label_length if config.fixed_shape else None

    def to_features(serialized: tf.Tensor) -> dict[str, tf.Tensor]:
        record = parse_example(serialized)
        features = {
            "audio": tf.cast(record["audio"], tf.float32) / 32768.0,
            "audio_length": tf.shape(record["audio"], out_type=tf.int32)[0],
        }
        if labelled:
            features["labels"] = encode(record["transcript"])
            features["label_length"] = tf.size(features["labels"], out_type=tf.int32)
        if config.keep_text:
            features["transcript"] = record["transcript"]
            features["utterance_id"] = record["utterance_id"]
        return features

    def keep(features: dict[str, tf.Tensor]) -> tf.Tensor:
        length = features["audio_length"]
        ok = tf.logical_and(length >= min_samples, length <= max_samples)
        if not labelled:
            return tf.logical_and(ok, frame_length_fn(length) > 0)
        if config.filter_unalignable:
            ok = tf.logical_and(ok, ctc_alignable(features["labels"], frame_length_fn(length)))
        if max_label_length is not None:
            ok = tf.logical_and(ok, features["label_length"] <= max_label_length)
        return ok

    dataset = dataset.map(to_features, num_parallel_calls=tf.data.AUTOTUNE, deterministic=config.deterministic or None)
    dataset = dataset.filter(keep)

    padded_shapes = {"audio": [None], "audio_length": []}
    padding_values = {"audio": 0.0, "audio_length": 0}
    if labelled:
        padded_shapes |= {"labels": [max_label_length], "label_length": []}
        padding_values |= {"labels": 0, "label_length": 0}
    if config.keep_text:
        padded_shapes |= {"transcript": [], "utterance_id": []}
        padding_values |= {"transcript": "", "utterance_id": ""}
    if config.bucket_boundaries_s is not None:
        dataset = _bucket(dataset, config, batch_size, padded_shapes, padding_values)
    else:
        if config.fixed_shape:
            padded_shapes["audio"] = [max_samples]
        dataset = dataset.padded_batch(batch_size, padded_shapes, padding_values, drop_remainder=config.training)
    options = tf.data.Options()
    options.deterministic = config.deterministic
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)
