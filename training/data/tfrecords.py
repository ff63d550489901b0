"""Sharded TFRecord files of utterances: 16 kHz 16-bit PCM audio, transcript, length (writer and parser).

Record features (one `tf.train.Example` per utterance):
- `audio`: bytes, little-endian int16 PCM at 16 kHz mono (2 bytes per sample, half the size of float32);
- `num_samples`: int64, samples in `audio`;
- `transcript`: bytes, UTF-8 text as given by the source (case and punctuation are the tokenizer's business);
- `utterance_id`: bytes, to trace a bad evaluation result back to its file.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from training.data.audio import load_pcm16
from training.data.sources import Skipped, SourceItem
from training.errors import AudioReadError, ConfigError
from wav2vec2 import SAMPLE_RATE_HZ

logger = logging.getLogger(__name__)

FEATURE_SPEC = {
    "audio": tf.io.FixedLenFeature([], tf.string),
    "num_samples": tf.io.FixedLenFeature([], tf.int64),
    "transcript": tf.io.FixedLenFeature([], tf.string),
    "utterance_id": tf.io.FixedLenFeature([], tf.string, default_value=""),
}


@dataclass
class WriteSummary:
    """What a writer run produced: shards, hours of audio, and every skipped utterance with its reason."""

    shard_paths: list[str] = field(default_factory=list)
    num_written: int = 0
    num_samples: int = 0
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def hours(self) -> float:
        return self.num_samples / SAMPLE_RATE_HZ / 3600.0

    def report(self) -> str:
        """Returns a human-readable summary: totals first, then skip reasons grouped by kind."""
        lines = [
            f"wrote {self.num_written} utterances ({self.hours:.3f} h of audio) to {len(self.shard_paths)} shards",
            f"skipped {len(self.skipped)} utterances",
        ]
        kinds = Counter(item.reason.split(" ")[0] for item in self.skipped)
        lines += [f"  {count} x {kind} ..." for kind, count in kinds.most_common()]
        lines += [f"  {item.utterance_id}: {item.reason}" for item in self.skipped[:20]]
        if len(self.skipped) > 20:
            lines.append(f"  ... and {len(self.skipped) - 20} more")
        return "\n".join(lines)


def serialize_utterance(utterance_id: str, audio_pcm16: np.ndarray, transcript: str) -> bytes:
    """Returns one serialized `tf.train.Example` in the layout documented at the top of this module."""
    pcm = np.asarray(audio_pcm16, dtype="<i2")
    features = {
        "audio": tf.train.Feature(bytes_list=tf.train.BytesList(value=[pcm.tobytes()])),
        "num_samples": tf.train.Feature(int64_list=tf.train.Int64List(value=[pcm.shape[0]])),
        "transcript": tf.train.Feature(bytes_list=tf.train.BytesList(value=[transcript.encode("utf-8")])),
        "utterance_id": tf.train.Feature(bytes_list=tf.train.BytesList(value=[utterance_id.encode("utf-8")])),
    }
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()


def parse_example(serialized: tf.Tensor) -> dict[str, tf.Tensor]:
    """Returns `{audio: int16 [samples], num_samples: int32, transcript: string, utterance_id: string}`."""
    parsed = tf.io.parse_single_example(serialized, FEATURE_SPEC)
    audio = tf.io.decode_raw(parsed["audio"], tf.int16, little_endian=True)
    return {
        "audio": audio,
        "num_samples": tf.cast(parsed["num_samples"], tf.int32),
        "transcript": parsed["transcript"],
        "utterance_id": parsed["utterance_id"],
    }


class _ShardWriter:
    """Opens a new shard whenever the current one holds `max_utterances` records or `max_bytes` bytes."""

    def __init__(self, out_dir: str, prefix: str, max_utterances: int, max_bytes: int) -> None:
        self.out_dir, self.prefix = out_dir, prefix
        self.max_utterances, self.max_bytes = max_utterances, max_bytes
        self.paths: list[str] = []
        self._writer: tf.io.TFRecordWriter | None = None
        self._count = self._bytes = 0

    def write(self, record: bytes) -> None:
        if self._writer is None or self._count >= self.max_utterances or self._bytes >= self.max_bytes:
            self.close()
            path = f"{self.out_dir.rstrip('/')}/{self.prefix}-{len(self.paths):05d}.tfrecord"
            self._writer = tf.io.TFRecordWriter(path)
            self.paths.append(path)
            self._count = self._bytes = 0
        self._writer.write(record)
        self._count += 1
        self._bytes += len(record)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def write_tfrecords(
    items: Iterable[SourceItem],
    out_dir: str,
    prefix: str = "train",
    shard_size: int = 2000,
    shard_max_mb: float = 200.0,
    min_duration_s: float = 0.0,
    max_duration_s: float | None = None,
    progress: bool = True,
) -> WriteSummary:
    """Writes the utterances of `items` to `out_dir/prefix-NNNNN.tfrecord` shards and returns the summary.

    A shard closes after `shard_size` utterances or `shard_max_mb` MB, whichever comes first (100-200 MB shards
    read well from GCS). `out_dir` may be local or `gs://` (written through tf.io). Unreadable files, empty
    transcripts and utterances outside [min_duration_s, max_duration_s] are skipped and listed in the summary.
    """
    if shard_size < 1 or shard_max_mb <= 0:
        raise ConfigError(f"shard_size must be >= 1 and shard_max_mb > 0, got {shard_size}, {shard_max_mb}")
    tf.io.gfile.makedirs(out_dir)
    summary = WriteSummary()
    shards = _ShardWriter(out_dir, prefix, shard_size, int(shard_max_mb * 1024 * 1024))
    bar = tqdm(items, desc=f"writing {prefix}", unit="utt", disable=not progress)
    try:
        for item in bar:
            if isinstance(item, Skipped):
                summary.skipped.append(item)
                continue
            try:
                audio = load_pcm16(item.audio_path)
            except AudioReadError as error:
                summary.skipped.append(Skipped(item.utterance_id, f"unreadable audio: {error}"))
                continue
            duration_s = audio.shape[0] / SAMPLE_RATE_HZ
            if duration_s < min_duration_s or (max_duration_s is not None and duration_s > max_duration_s):
                bounds = f"[{min_duration_s}, {max_duration_s}]"
                summary.skipped.append(Skipped(item.utterance_id, f"duration {duration_s:.2f}s outside {bounds}"))
                continue
            shards.write(serialize_utterance(item.utterance_id, audio, item.transcript))
            summary.num_written += 1
            summary.num_samples += int(audio.shape[0])
            bar.set_postfix(hours=f"{summary.hours:.2f}", skipped=len(summary.skipped))
    finally:
        shards.close()
    summary.shard_paths = shards.paths
    logger.debug("%s", summary.report())
    return summary
