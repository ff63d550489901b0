"""Corpus → TFRecord shards → parsed records: what goes in comes out, and what cannot go in is reported."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile
import tensorflow as tf

from tests.training.synthetic_speech import tone, write_wav
from training.data.audio import float_to_pcm16
from training.data.fsdd import fsdd_utterances
from training.data.sources import librispeech_utterances, manifest_utterances
from training.data.tfrecords import parse_example, write_tfrecords


def read_all(pattern: str) -> list[dict]:
    files = sorted(tf.io.gfile.glob(pattern))
    return [
        {key: value.numpy() for key, value in parse_example(record).items()}
        for record in tf.data.TFRecordDataset(files)
    ]


def test_round_trip_keeps_audio_and_text_identical(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    originals = {}
    lines = []
    for index in range(5):
        audio = float_to_pcm16(rng.uniform(-0.9, 0.9, size=1000 + 700 * index).astype(np.float32))
        path = tmp_path / f"u{index}.wav"
        soundfile.write(str(path), audio, 16_000, subtype="PCM_16")
        text = f"héllo wörld {index}"
        originals[path.stem] = (audio, text)
        lines.append(f"{path.name}\t{text}")
    (tmp_path / "m.tsv").write_text("\n".join(lines))

    summary = write_tfrecords(
        manifest_utterances(tmp_path / "m.tsv"), str(tmp_path / "out"), shard_size=2, progress=False
    )

    assert len(summary.shard_paths) == 3
    assert summary.num_written == 5 and not summary.skipped
    records = read_all(str(tmp_path / "out" / "*.tfrecord"))
    assert len(records) == 5
    for record in records:
        audio, text = originals[record["utterance_id"].decode()]
        np.testing.assert_array_equal(record["audio"], audio)
        assert record["num_samples"] == len(audio)
        assert record["transcript"].decode("utf-8") == text


def test_bad_files_are_skipped_with_reasons(tmp_path: Path) -> None:
    write_wav(tmp_path / "good.wav", tone(300, 1.0))
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF not really a wav")
    write_wav(tmp_path / "long.wav", tone(300, 3.0))
    (tmp_path / "m.csv").write_text(
        "path,transcript\ngood.wav,fine\ncorrupt.wav,broken\nmissing.wav,gone\nlong.wav,too long\ngood.wav,\n"
    )

    summary = write_tfrecords(
        manifest_utterances(tmp_path / "m.csv"), str(tmp_path / "out"), max_duration_s=2.0, progress=False
    )

    assert summary.num_written == 1
    assert abs(summary.hours - 1.0 / 3600) < 1e-9
    reasons = " | ".join(item.reason for item in summary.skipped)
    assert len(summary.skipped) == 4
    for expected in ("unreadable audio", "missing audio", "duration 3.00s", "empty transcript"):
        assert expected in reasons
    assert "skipped 4 utterances" in summary.report()


def test_non_16k_audio_is_resampled(tmp_path: Path) -> None:
    write_wav(tmp_path / "0_alice_0.wav", tone(440, 1.0, sample_rate_hz=8_000), sample_rate_hz=8_000)
    write_wav(tmp_path / "7_bob_12.wav", tone(440, 0.5, sample_rate_hz=44_100), sample_rate_hz=44_100)
    write_wav(tmp_path / "notes.wav", tone(440, 0.5))

    summary = write_tfrecords(fsdd_utterances(tmp_path), str(tmp_path / "out"), progress=False)

    assert [item.utterance_id for item in summary.skipped] == ["notes"]
    records = {r["utterance_id"].decode(): r for r in read_all(str(tmp_path / "out" / "*.tfrecord"))}
    assert records["0_alice_0"]["transcript"] == b"ZERO"
    assert records["7_bob_12"]["transcript"] == b"SEVEN"
    assert records["0_alice_0"]["num_samples"] == 16_000
    assert records["7_bob_12"]["num_samples"] == 8_000
    # Still a 440 Hz tone after resampling: the spectrum peaks at 440 Hz (1 Hz bins over one second).
    spectrum = np.abs(np.fft.rfft(records["0_alice_0"]["audio"].astype(np.float32)))
    assert abs(int(np.argmax(spectrum)) - 440) <= 1


def test_librispeech_layout(tmp_path: Path) -> None:
    chapter = tmp_path / "LibriSpeech" / "dev-clean" / "84" / "121123"
    chapter.mkdir(parents=True)
    soundfile.write(str(chapter / "84-121123-0000.flac"), tone(300, 0.5), 16_000, subtype="PCM_16")
    soundfile.write(str(chapter / "84-121123-0001.flac"), tone(400, 0.7), 16_000, subtype="PCM_16")
    (chapter / "84-121123-0000.trans.txt").write_text(
        "84-121123-0000 GO DO YOU HEAR\n84-121123-0001 BUT IN LESS THAN FIVE MINUTES\n84-121123-0002 LOST\n"
    )

    items = list(librispeech_utterances(tmp_path / "LibriSpeech"))
    summary = write_tfrecords(items, str(tmp_path / "out"), progress=False)

    assert summary.num_written == 2
    assert [s.utterance_id for s in summary.skipped] == ["84-121123-0002"]
    texts = sorted(r["transcript"].decode() for r in read_all(str(tmp_path / "out" / "*.tfrecord")))
    assert texts == ["BUT IN LESS THAN FIVE MINUTES", "GO DO YOU HEAR"]
