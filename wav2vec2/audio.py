"""Decodes an audio file into model input: mono float32 samples at 16 kHz (or another target rate).

soundfile (libsndfile) reads WAV, FLAC, OGG/Vorbis/Opus and MP3; soxr resamples with a band-limited filter.
The gateway, the TFRecord writer and the demo corpus builder all read audio through `load_audio`, so the
audio a model is trained on and the audio it serves are made the same way. Every way a file can be wrong
ends in one of the `AudioError` subclasses of `wav2vec2.errors`.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import soundfile
import soxr

from wav2vec2.errors import (
    AudioDecodeError,
    AudioTooLongError,
    EmptyAudioError,
    NonFiniteAudioError,
    TruncatedAudioError,
    UnsupportedAudioFormatError,
)
from wav2vec2.feature_extractor import SAMPLE_RATE_HZ

AudioSource = str | os.PathLike[str] | bytes | BinaryIO

# libsndfile's SF_ERR_UNRECOGNISED_FORMAT: the bytes match no container it knows (text, images, ...).
_SF_ERR_UNRECOGNISED_FORMAT = 1

# libsndfile repairs a WAV whose data chunk is shorter than its header says and only notes it in its log
# ("data : 32000 (should be 15978)"); we read that note to reject truncated files.
_WAV_SHORT_DATA = re.compile(r"^data : (\d+) \(should be (\d+)\)", re.MULTILINE)
# Writers that stream to a pipe cannot know the size and leave 0 or ~4 GiB in the header: not truncation.
_WAV_UNKNOWN_SIZE_MIN = 0x7FFF0000


@dataclass(frozen=True)
class DecodedAudio:
    """Model-ready audio and what the file originally was."""

    samples: np.ndarray  # [samples] float32, mono, at sample_rate_hz
    sample_rate_hz: int
    source_sample_rate_hz: int
    source_channels: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate_hz


def load_audio(
    source: AudioSource, sample_rate_hz: int = SAMPLE_RATE_HZ, max_duration_s: float | None = None
) -> DecodedAudio:
    """Returns `source` as mono float32 at `sample_rate_hz`, or raises the `AudioError` that says what is wrong.

    `source` is a path, the file's bytes, or a binary file object positioned at its start. Channels are
    averaged; other rates are resampled with soxr's "HQ" preset. With `max_duration_s`, a longer file is
    refused from its header when the header tells, and never decoded past the limit when it does not.
    A missing path raises `FileNotFoundError` (an `OSError`, not an `AudioError`: the file is absent, not bad).
    """
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as file:
            return _decode(file, sample_rate_hz, max_duration_s)
    return _decode(source, sample_rate_hz, max_duration_s)


def _decode(file: BinaryIO, sample_rate_hz: int, max_duration_s: float | None) -> DecodedAudio:
    try:
        with soundfile.SoundFile(file) as sound:
            samples = _read_checked(sound, max_duration_s)
            source_rate_hz, channels = sound.samplerate, sound.channels
    except soundfile.LibsndfileError as error:
        if error.code == _SF_ERR_UNRECOGNISED_FORMAT:
            raise UnsupportedAudioFormatError(
                "not an audio file in a supported format (WAV, FLAC, OGG/Vorbis/Opus, MP3)"
            ) from error
        raise AudioDecodeError(f"the audio file is corrupt or truncated: {error.error_string}") from error

    if not np.isfinite(samples).all():
        raise NonFiniteAudioError("the audio contains NaN or infinite sample values")
    # samples: [frames, channels] float32
    mono = samples.mean(axis=1, dtype=np.float32) if channels > 1 else samples[:, 0]
    if source_rate_hz != sample_rate_hz:
        mono = soxr.resample(mono, source_rate_hz, sample_rate_hz, quality="HQ")
    return DecodedAudio(
        samples=np.ascontiguousarray(mono, dtype=np.float32),
        sample_rate_hz=sample_rate_hz,
        source_sample_rate_hz=source_rate_hz,
        source_channels=channels,
    )


def _read_checked(sound: soundfile.SoundFile, max_duration_s: float | None) -> np.ndarray:
    """Returns all frames `[frames, channels]` float32, refusing too long, empty or truncated streams."""
    max_frames = None if max_duration_s is None else int(max_duration_s * sound.samplerate)
    if max_frames is not None and sound.frames > max_frames:
        raise AudioTooLongError(_too_long_message(sound.frames / sound.samplerate, max_duration_s))
    # Read one frame past the cap: a header that under-reports the length cannot make us decode more.
    samples = sound.read(frames=-1 if max_frames is None else max_frames + 1, dtype="float32", always_2d=True)
    if max_frames is not None and len(samples) > max_frames:
        raise AudioTooLongError(_too_long_message(len(samples) / sound.samplerate, max_duration_s))
    if len(samples) == 0:
        raise EmptyAudioError("the audio file holds no samples")
    if len(samples) < sound.frames:
        raise TruncatedAudioError(
            f"the audio file is truncated: the header promises {sound.frames} frames, "
            f"{len(samples)} are present"
        )
    _refuse_short_wav_data(sound)
    return samples


def _refuse_short_wav_data(sound: soundfile.SoundFile) -> None:
    if sound.format not in ("WAV", "WAVEX", "RF64"):
        return
    match = _WAV_SHORT_DATA.search(sound.extra_info)
    if match is None:
        return
    declared_bytes, present_bytes = int(match.group(1)), int(match.group(2))
    if present_bytes < declared_bytes < _WAV_UNKNOWN_SIZE_MIN:
        raise TruncatedAudioError(
            f"the audio file is truncated: its data chunk declares {declared_bytes} bytes, "
            f"{present_bytes} are present"
        )


def _too_long_message(duration_s: float, max_duration_s: float) -> str:
    return f"the audio is {duration_s:.1f} s long; at most {max_duration_s:g} s is accepted"
