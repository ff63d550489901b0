"""Decode an uploaded audio file into the model's input: 16 kHz mono float32 samples.

soundfile (libsndfile) reads WAV, FLAC, OGG/Vorbis/Opus and MP3; soxr resamples with a band-limited filter.
Every way an upload can be wrong ends in one of the typed errors of `service.core.errors`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import soundfile
import soxr

from service.core.config import MODEL_SAMPLE_RATE_HZ
from service.core.errors import (
    AudioDecodeError,
    AudioTooLongError,
    EmptyAudioError,
    EmptyUploadError,
    InvalidSamplesError,
    UnsupportedMediaError,
)

# libsndfile's SF_ERR_UNRECOGNISED_FORMAT: the bytes match no container it knows (text, images, ...).
_SF_ERR_UNRECOGNISED_FORMAT = 1

# libsndfile repairs a WAV whose data chunk is shorter than its header says and only notes it in its log
# ("data : 32000 (should be 15978)"); we read that note to reject truncated uploads.
_WAV_SHORT_DATA = re.compile(r"^data : (\d+) \(should be (\d+)\)", re.MULTILINE)
# Writers that stream to a pipe cannot know the size and leave 0 or ~4 GiB in the header: not truncation.
_WAV_UNKNOWN_SIZE_MIN = 0x7FFF0000


@dataclass(frozen=True)
class DecodedAudio:
    """Model-ready audio and what the upload originally was."""

    samples: np.ndarray  # [samples] float32, 16 kHz mono
    source_sample_rate_hz: int
    source_channels: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / MODEL_SAMPLE_RATE_HZ


def decode_audio(file: BinaryIO, max_duration_s: float) -> DecodedAudio:
    """Return the upload in `file` as 16 kHz mono float32, or raise the error that says what is wrong with it."""
    file.seek(0, 2)
    if file.tell() == 0:
        raise EmptyUploadError("the uploaded file is empty (0 bytes)")
    file.seek(0)
    try:
        with soundfile.SoundFile(file) as sound:
            samples = _read_checked(sound, max_duration_s)
            sample_rate_hz, channels = sound.samplerate, sound.channels
    except soundfile.LibsndfileError as error:
        if error.code == _SF_ERR_UNRECOGNISED_FORMAT:
            raise UnsupportedMediaError(
                "not an audio file in a supported format (WAV, FLAC, OGG/Vorbis/Opus, MP3)"
            ) from error
        raise AudioDecodeError(f"the audio file is corrupt or truncated: {error.error_string}") from error

    if not np.isfinite(samples).all():
        raise InvalidSamplesError("the audio contains NaN or infinite sample values")
    mono = samples.mean(axis=1, dtype=np.float32) if channels > 1 else samples[:, 0]
    if sample_rate_hz != MODEL_SAMPLE_RATE_HZ:
        mono = soxr.resample(mono, sample_rate_hz, MODEL_SAMPLE_RATE_HZ, quality="HQ")
    return DecodedAudio(
        samples=np.ascontiguousarray(mono, dtype=np.float32),
        source_sample_rate_hz=sample_rate_hz,
        source_channels=channels,
    )


def _read_checked(sound: soundfile.SoundFile, max_duration_s: float) -> np.ndarray:
    """Return all frames `[frames, channels]` float32, refusing too long, empty or truncated streams."""
    max_frames = int(max_duration_s * sound.samplerate)
    if sound.frames > max_frames:
        raise AudioTooLongError(_too_long_message(sound.frames / sound.samplerate, max_duration_s))
    # Read one frame past the cap: a header that under-reports the length cannot make us decode more.
    samples = sound.read(frames=max_frames + 1, dtype="float32", always_2d=True)
    if len(samples) > max_frames:
        raise AudioTooLongError(_too_long_message(len(samples) / sound.samplerate, max_duration_s))
    if len(samples) == 0:
        raise EmptyAudioError("the audio file holds no samples")
    if 0 < len(samples) < sound.frames or _wav_data_truncated(sound):
        raise AudioDecodeError(
            f"the audio file is truncated: the header promises {sound.frames} frames, "
            f"{len(samples)} are present"
        )
    return samples


def _wav_data_truncated(sound: soundfile.SoundFile) -> bool:
    if sound.format not in ("WAV", "WAVEX", "RF64"):
        return False
    match = _WAV_SHORT_DATA.search(sound.extra_info)
    if match is None:
        return False
    declared_bytes, present_bytes = int(match.group(1)), int(match.group(2))
    return present_bytes < declared_bytes < _WAV_UNKNOWN_SIZE_MIN


def _too_long_message(duration_s: float, max_duration_s: float) -> str:
    return f"the audio is {duration_s:.1f} s long; this server accepts at most {max_duration_s:g} s"
