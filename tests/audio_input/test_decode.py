"""`audio_input.load_audio` as a library: every source kind, any target rate, and its typed errors.

The gateway's tests (tests/service/test_audio_decode.py) cover the formats and the HTTP-facing failures;
these cover what the training and demo-corpus callers rely on.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tomllib
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile
import soxr

from audio_input import (
    AudioDecodeError,
    AudioError,
    AudioTooLongError,
    EmptyAudioError,
    NonFiniteAudioError,
    TruncatedAudioError,
    UnsupportedAudioFormatError,
    load_audio,
)
from audio_input.mp3_length import mp3_length_tag
from wav2vec2 import SAMPLE_RATE_HZ


def tone(duration_s: float, rate_hz: int, frequency_hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(duration_s * rate_hz)) / rate_hz
    return (0.5 * np.sin(2 * np.pi * frequency_hz * t)).astype(np.float32)


def wav_bytes(samples: np.ndarray, rate_hz: int, subtype: str = "PCM_16") -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate_hz, format="WAV", subtype=subtype)
    return buffer.getvalue()


def test_path_bytes_and_file_object_decode_the_same(tmp_path: Path) -> None:
    data = wav_bytes(tone(0.5, 8_000), 8_000)
    path = tmp_path / "tone.wav"
    path.write_bytes(data)
    from_path = load_audio(path, SAMPLE_RATE_HZ)
    from_str = load_audio(str(path), SAMPLE_RATE_HZ)
    from_bytes = load_audio(data, SAMPLE_RATE_HZ)
    from_file = load_audio(io.BytesIO(data), SAMPLE_RATE_HZ)
    for audio in (from_str, from_bytes, from_file):
        np.testing.assert_array_equal(audio.samples, from_path.samples)
    assert from_path.sample_rate_hz == 16_000 and from_path.source_sample_rate_hz == 8_000
    assert from_path.duration_s == pytest.approx(0.5)


def test_resamples_to_any_target_rate() -> None:
    audio = load_audio(wav_bytes(tone(1.0, 44_100), 44_100, "FLOAT"), sample_rate_hz=8_000)
    assert audio.sample_rate_hz == 8_000 and len(audio.samples) == 8_000
    expected = tone(1.0, 8_000)
    # Away from the filter's edge effects the band-limited resampler keeps the tone.
    assert np.max(np.abs(audio.samples[400:-400] - expected[400:-400])) < 1e-3


def test_sixteen_bit_audio_at_the_target_rate_is_returned_exactly() -> None:
    pcm = (tone(0.25, 16_000) * 32768).astype(np.int16)
    audio = load_audio(wav_bytes(pcm, 16_000), 16_000)
    np.testing.assert_array_equal(audio.samples, pcm.astype(np.float32) / 32768)


def test_no_duration_limit_unless_asked() -> None:
    data = wav_bytes(np.zeros(3 * 8_000, dtype=np.float32), 8_000)
    assert load_audio(data, SAMPLE_RATE_HZ).duration_s == pytest.approx(3.0)
    with pytest.raises(AudioTooLongError, match="3.0 s long; at most 2 s"):
        load_audio(data, SAMPLE_RATE_HZ, max_duration_s=2.0)


def test_truncated_wav_is_its_own_decode_error() -> None:
    data = wav_bytes(tone(1.0, 16_000), 16_000)
    with pytest.raises(TruncatedAudioError, match="declares 32000 bytes") as raised:
        load_audio(data[: len(data) // 2], SAMPLE_RATE_HZ)
    assert isinstance(raised.value, AudioDecodeError)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"plain text, not audio\n" * 20, UnsupportedAudioFormatError),
        (wav_bytes(np.zeros(0, dtype=np.float32), 16_000), EmptyAudioError),
        (wav_bytes(np.array([0.0, np.nan, 0.1], dtype=np.float32), 16_000, "FLOAT"), NonFiniteAudioError),
    ],
    ids=["not-audio", "empty", "nan"],
)
def test_bad_audio_raises_the_library_error_hierarchy(data: bytes, error: type[AudioError]) -> None:
    with pytest.raises(error) as raised:
        load_audio(data, SAMPLE_RATE_HZ)
    # Callers catch one base (the corpus writer skips the file); generic code sees a ValueError.
    assert all(isinstance(raised.value, base) for base in (AudioError, ValueError))


def test_a_missing_path_is_file_not_found_not_bad_audio(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_audio(tmp_path / "absent.wav", SAMPLE_RATE_HZ)


def test_long_audio_is_decoded_in_blocks_with_memory_near_the_output_size() -> None:
    rate_hz, duration_s = 48_000, 60
    data = wav_bytes(np.stack([tone(duration_s, rate_hz)] * 2, axis=1), rate_hz)
    tracemalloc.start()  # numpy reports its buffers to tracemalloc
    try:
        audio = load_audio(data, SAMPLE_RATE_HZ)
        peak_bytes = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    output_bytes = audio.samples.nbytes  # 60 s at 16 kHz float32: 3.84 MB
    # Decoding the whole file at once held the 48 kHz stereo float32 source: 6x the output, 23 MB.
    assert peak_bytes < 1.5 * output_bytes
    # Resampled block by block, yet the same samples as one-shot resampling of the whole signal.
    stereo, _ = soundfile.read(io.BytesIO(data), dtype="float32")
    whole = soxr.resample(stereo.mean(axis=1, dtype=np.float32), rate_hz, 16_000, quality="HQ")
    np.testing.assert_array_equal(audio.samples, whole)


_needs_mp3_encoders = pytest.mark.skipif(
    shutil.which("sox") is None or shutil.which("lame") is None,
    reason="needs the sox (with libsox-fmt-mp3) and lame commands; scripts/test.sh installs them",
)


def _mp3_by(encoder: str, samples: np.ndarray, rate_hz: int, tmp_path: Path, *options: str) -> bytes:
    """Returns `samples` encoded as MP3 by the `sox` or `lame` command, as users make their files."""
    wav, mp3 = tmp_path / "in.wav", tmp_path / f"out-{encoder}-{rate_hz}.mp3"
    wav.write_bytes(wav_bytes(samples, rate_hz))
    command = ["sox", str(wav), str(mp3)] if encoder == "sox" else ["lame", "--quiet", *options, str(wav), str(mp3)]
    subprocess.run(command, check=True, capture_output=True)
    return mp3.read_bytes()


_SPEECH_WAV = Path(__file__).resolve().parents[1] / "fixtures" / "festival" / "eval_festival-festival-007902.wav"


def _speech(rate_hz: int) -> np.ndarray:
    """Returns a festival sentence (2.24 s) at `rate_hz`: unlike a tone, it lines up with itself at one lag only."""
    samples, source_rate_hz = soundfile.read(_SPEECH_WAV, dtype="float32")
    return soxr.resample(samples, source_rate_hz, rate_hz, quality="HQ")


def _lag(decoded: np.ndarray, reference: np.ndarray, max_lag: int = 600) -> int:
    """Returns the shift (in samples) at which `decoded` best matches `reference`: > 0 when it starts late."""
    core = reference[max_lag : len(reference) - max_lag]
    scores = [np.dot(decoded[max_lag + lag : max_lag + lag + len(core)], core) for lag in range(-max_lag, max_lag)]
    return int(np.argmax(scores)) - max_lag


@_needs_mp3_encoders
@pytest.mark.parametrize(
    ("rate_hz", "options"),
    [
        (16_000, ["-b", "64"]),  # CBR: LAME's tag needs at least 40 kbit/s at 16 kHz to fit in the first frame
        (16_000, ["-V", "2"]),
        (22_050, ["-b", "64"]),
        (22_050, ["-V", "2"]),
        (44_100, []),  # LAME's default: 128 kbit/s CBR
        (44_100, ["-V", "2"]),
    ],
)
def test_a_lame_tagged_mp3_decodes_to_its_wavs_length_and_time(rate_hz: int, options: list[str], tmp_path) -> None:
    mp3 = _mp3_by("lame", _speech(rate_hz), rate_hz, tmp_path, *options)
    assert mp3_length_tag(io.BytesIO(mp3)) in (b"Info", b"Xing")  # LAME's tag, stating its delay and padding
    reference = _speech(16_000)
    decoded = load_audio(mp3, SAMPLE_RATE_HZ).samples
    assert abs(len(decoded) - len(reference)) <= 16  # 1 ms at 16 kHz
    assert abs(_lag(decoded, reference)) <= 2


@_needs_mp3_encoders
@pytest.mark.parametrize(
    ("encoder", "rate_hz", "frame_samples"),
    [("lame", 16_000, 576), ("lame", 22_050, 576), ("sox", 16_000, 576), ("sox", 44_100, 1152)],
)
def test_an_untagged_mp3_starts_on_time(encoder: str, rate_hz: int, frame_samples: int, tmp_path: Path) -> None:
    # LAME's defaults at 16 and 22.05 kHz (24 and 32 kbit/s CBR) leave no room for its tag; sox never writes one.
    mp3 = _mp3_by(encoder, _speech(rate_hz), rate_hz, tmp_path)
    assert mp3_length_tag(io.BytesIO(mp3)) is None
    reference = _speech(16_000)
    decoded = load_audio(mp3, SAMPLE_RATE_HZ).samples
    # The codec's delay (69 ms at 16 kHz) would put every word late; the words must come when they were said.
    assert abs(_lag(decoded, reference)) <= 2
    # Only the tag says how much padding ends the last frame: the file may be up to one frame long.
    frame_at_16_khz = frame_samples * 16_000 // rate_hz
    assert len(reference) <= len(decoded) <= len(reference) + frame_at_16_khz


@_needs_mp3_encoders
@pytest.mark.parametrize("encoder", ["sox", "lame"])
@pytest.mark.parametrize("rate_hz", [44_100, 22_050, 16_000])
def test_an_mp3s_duration_cap_agrees_with_its_decoded_length(encoder: str, rate_hz: int, tmp_path: Path) -> None:
    # The cap is checked from the header before decoding: mpg123's estimate of an untagged file (0.47 % long at
    # 44.1 and 22.05 kHz) must not refuse audio that decodes within the cap.
    mp3 = _mp3_by(encoder, tone(3.7, rate_hz), rate_hz, tmp_path)
    decoded_s = load_audio(mp3, SAMPLE_RATE_HZ).duration_s
    assert load_audio(mp3, SAMPLE_RATE_HZ, max_duration_s=decoded_s + 0.03).duration_s == decoded_s
    with pytest.raises(AudioTooLongError):
        load_audio(mp3, SAMPLE_RATE_HZ, max_duration_s=decoded_s - 0.1)


# An ID3v2 tag (title, cover art) before the first frame: 10-byte header, then a 7-bit-per-byte ("syncsafe") size.
_ID3V2_TAG = b"ID3\x04\x00\x00" + bytes([0, 0, 0x40, 0x00]) + b"\x00" * 0x2000  # 8 KiB, past a 4 KiB sync search


@_needs_mp3_encoders
@pytest.mark.parametrize("id3_tag", [b"", _ID3V2_TAG], ids=["bare", "id3v2"])
def test_a_cut_mp3_whose_tag_counts_its_frames_is_truncated(id3_tag: bytes, tmp_path: Path) -> None:
    data = id3_tag + _mp3_by("lame", tone(3.7, 44_100), 44_100, tmp_path)
    assert b"Info" in data[: len(id3_tag) + 200]  # LAME's tag with the frame count
    assert load_audio(data, SAMPLE_RATE_HZ).duration_s == pytest.approx(3.7)
    with pytest.raises(TruncatedAudioError, match="the header promises 163170 frames"):
        load_audio(data[: len(data) // 2], SAMPLE_RATE_HZ)


@_needs_mp3_encoders
def test_a_cut_mp3_without_a_length_tag_is_a_shorter_valid_mp3(tmp_path: Path) -> None:
    data = _mp3_by("sox", tone(3.7, 44_100), 44_100, tmp_path)
    # Nothing in an untagged MP3 says how long it was meant to be: what is there decodes.
    assert load_audio(data[: len(data) // 2], SAMPLE_RATE_HZ).duration_s == pytest.approx(3.7 / 2, abs=0.1)


def test_importing_it_loads_neither_tensorflow_nor_any_package_of_ours() -> None:
    # The slim gateway (no TensorFlow installed) decodes uploads with it; the model library is not its business.
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    ours = {name.rstrip("*") for name in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    code = "import sys, audio_input; print(' '.join({name.split('.')[0] for name in sys.modules}))"
    run = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    loaded = set(run.stdout.split())
    assert "audio_input" in loaded
    assert loaded.isdisjoint({"tensorflow", "keras", *(ours - {"audio_input"})})
