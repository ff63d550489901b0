"""Decodes an audio file into model input: mono float32 samples at the caller's rate (the model's: 16 kHz).

soundfile (libsndfile) reads WAV, FLAC, OGG/Vorbis/Opus and MP3; soxr resamples with a band-limited filter.
The gateway, the TFRecord writer and the demo corpus builder all read audio through `load_audio`, so the
audio a model is trained on and the audio it serves are made the same way. Every way a file can be wrong
ends in one of the `AudioError` subclasses of `audio_input.errors`.

The file is decoded, downmixed and resampled (soxr's streaming resampler, bit-identical to resampling the whole
signal at once) in blocks, so memory is the 16 kHz mono float32 output (230 MB per hour) plus one block, not the
source's rate times its channels (a 44.1 kHz stereo hour would be 1.27 GB as float32).
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

from audio_input.errors import (
    AudioDecodeError,
    AudioTooLongError,
    EmptyAudioError,
    NonFiniteAudioError,
    TruncatedAudioError,
    UnsupportedAudioFormatError,
)
from audio_input.mp3_length import UNTAGGED_MP3_DELAY_FRAMES, mp3_length_tag

AudioSource = str | os.PathLike[str] | bytes | BinaryIO

# libsndfile's SF_ERR_UNRECOGNISED_FORMAT: the bytes match no container it knows (text, images, ...).
_SF_ERR_UNRECOGNISED_FORMAT = 1

# libsndfile repairs a WAV whose data chunk is shorter than its header says and only notes it in its log
# ("data : 32000 (should be 15978)"); we read that note to reject truncated files.
_WAV_SHORT_DATA = re.compile(r"^data : (\d+) \(should be (\d+)\)", re.MULTILINE)
# Writers that stream to a pipe cannot know the size and leave 0 or ~4 GiB in the header: not truncation.
_WAV_UNKNOWN_SIZE_MIN = 0x7FFF0000
# Source frames decoded, downmixed and resampled at a time: 1.5 s at 44.1 kHz, 512 KiB as float32 stereo.
_BLOCK_FRAMES = 65_536
# A header cannot make us reserve more than 1 h at 16 kHz (230 MB) up front; longer audio grows the buffer.
_MAX_PREALLOCATED_SAMPLES = 3600 * 16_000
_MPEG_FRAME_SAMPLES = 1152  # samples per channel in an MPEG-1 Layer III frame (576 in MPEG-2: within it)


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


def load_audio(source: AudioSource, sample_rate_hz: int, max_duration_s: float | None = None) -> DecodedAudio:
    """Returns `source` as mono float32 at `sample_rate_hz`, or raises the `AudioError` that says what is wrong.

    `source` is a path, the file's bytes, or a binary file object positioned at its start. Channels are
    averaged; other rates are resampled with soxr's "HQ" preset. `sample_rate_hz` is the caller's to give (the
    model's, `wav2vec2.SAMPLE_RATE_HZ`): this package depends on nothing of ours. With `max_duration_s`, a longer
    file is refused from its header when the header tells, and never decoded past the limit when it does not.
    A missing path raises `FileNotFoundError` (an `OSError`, not an `AudioError`: the file is absent, not bad).
    """
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as file:
            return _decode(file, sample_rate_hz, max_duration_s)
    return _decode(source, sample_rate_hz, max_duration_s)


def _decode(file: BinaryIO, sample_rate_hz: int, max_duration_s: float | None) -> DecodedAudio:
    mp3_tag = mp3_length_tag(file)  # read before libsndfile moves the file's position
    try:
        with soundfile.SoundFile(file) as sound:
            is_mp3 = sound.format == "MP3"
            # A tagged MP3 arrives trimmed (gapless); an untagged one still starts with the codec's delay.
            delay_frames = UNTAGGED_MP3_DELAY_FRAMES if is_mp3 and mp3_tag is None else 0
            decoded = _read_resampled(sound, sample_rate_hz, max_duration_s, delay_frames)
            _refuse_truncation(sound, decoded.frames_read, mp3_length_is_exact=is_mp3 and mp3_tag is not None)
            source_rate_hz, channels = sound.samplerate, sound.channels
    except soundfile.LibsndfileError as error:
        if error.code == _SF_ERR_UNRECOGNISED_FORMAT:
            raise UnsupportedAudioFormatError(
                "not an audio file in a supported format (WAV, FLAC, OGG/Vorbis/Opus, MP3)"
            ) from error
        raise AudioDecodeError(f"the audio file is corrupt or truncated: {error.error_string}") from error
    return DecodedAudio(
        samples=decoded.samples,
        sample_rate_hz=sample_rate_hz,
        source_sample_rate_hz=source_rate_hz,
        source_channels=channels,
    )


@dataclass(frozen=True)
class _ReadStream:
    """What `_read_resampled` gives back: the model-ready samples, and how much of the file it took."""

    samples: np.ndarray  # [samples] float32, mono, at the target rate
    frames_read: int  # source frames decoded, the dropped delay included: what the header's length counts


def _read_resampled(
    sound: soundfile.SoundFile, sample_rate_hz: int, max_duration_s: float | None, delay_frames: int
) -> _ReadStream:
    """Returns the stream as mono float32 at `sample_rate_hz`, read and resampled block by block.

    The first `delay_frames` source frames (a codec's delay, not audio) are dropped. Refuses too long, empty or
    non-finite streams. Memory: the output plus one block, whatever the source's rate and channels (a whole
    44.1 kHz stereo file as float32 would be 5.5x the 16 kHz mono output).
    """
    stated_frames = max(sound.frames - delay_frames, 0)
    max_frames = None if max_duration_s is None else int(max_duration_s * sound.samplerate)
    if max_frames is not None and stated_frames > max_frames:
        raise AudioTooLongError(_too_long_message(stated_frames / sound.samplerate, max_duration_s))
    resampler = (
        soxr.ResampleStream(sound.samplerate, sample_rate_hz, 1, dtype="float32", quality="HQ")
        if sound.samplerate != sample_rate_hz
        else None
    )
    expected_frames = stated_frames if max_frames is None else min(stated_frames, max_frames)
    output = _SampleBuffer(int(expected_frames * sample_rate_hz / sound.samplerate) + _BLOCK_FRAMES)
    frames_read = frames_kept = 0
    while True:
        # Read at most one frame past the cap: a header that under-reports the length cannot make us decode more.
        wanted = _BLOCK_FRAMES
        if max_frames is not None:
            wanted = min(wanted, max_frames + 1 - frames_kept + max(delay_frames - frames_read, 0))
        block = sound.read(frames=wanted, dtype="float32", always_2d=True)  # [frames, channels]
        if len(block) == 0:
            break
        delay_left = max(delay_frames - frames_read, 0)
        frames_read += len(block)
        block = block[delay_left:]
        if len(block) == 0:
            continue
        frames_kept += len(block)
        if max_frames is not None and frames_kept > max_frames:
            raise AudioTooLongError(_too_long_message(frames_kept / sound.samplerate, max_duration_s))
        if not np.isfinite(block).all():
            raise NonFiniteAudioError("the audio contains NaN or infinite sample values")
        mono = block.mean(axis=1, dtype=np.float32) if sound.channels > 1 else block[:, 0]
        output.append(resampler.resample_chunk(mono) if resampler else mono)
    if frames_kept == 0:
        raise EmptyAudioError("the audio file holds no samples")
    if resampler is not None:
        output.append(resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True))
    return _ReadStream(output.samples(), frames_read)


class _SampleBuffer:
    """A growable float32 array: sized from the header's length, enlarged in place (realloc) if that was short."""

    def __init__(self, capacity: int) -> None:
        self._samples = np.empty(min(max(capacity, _BLOCK_FRAMES), _MAX_PREALLOCATED_SAMPLES), dtype=np.float32)
        self._length = 0

    def append(self, samples: np.ndarray) -> None:
        end = self._length + len(samples)
        if end > len(self._samples):
            # ndarray.resize reallocates the buffer this array owns, which large allocations do without a copy.
            self._samples.resize(max(end, len(self._samples) * 3 // 2), refcheck=False)
        self._samples[self._length : end] = samples
        self._length = end

    def samples(self) -> np.ndarray:
        """Returns the appended samples; the buffer is handed over (shrunk in place), not copied."""
        self._samples.resize(self._length, refcheck=False)
        return self._samples


def _refuse_truncation(sound: soundfile.SoundFile, frames_read: int, mp3_length_is_exact: bool) -> None:
    if sound.format == "MP3" and not mp3_length_is_exact:
        return  # the "promised" length is mpg123's estimate (audio_input.mp3_length); truncation cannot be seen
    # An exact MP3 count is what gapless decoding yields; allow one MPEG frame for encoders' rounding of it.
    tolerance = _MPEG_FRAME_SAMPLES if sound.format == "MP3" else 0
    if frames_read < sound.frames - tolerance:
        raise TruncatedAudioError(
            f"the audio file is truncated: the header promises {sound.frames} frames, {frames_read} are present"
        )
    _refuse_short_wav_data(sound)


def _refuse_short_wav_data(sound: soundfile.SoundFile) -> None:
    if sound.format not in ("WAV", "WAVEX", "RF64"):
        return
    match = _WAV_SHORT_DATA.search(sound.extra_info)
    if match is None:
        return
    declared_bytes, present_bytes = int(match.group(1)), int(match.group(2))
    if present_bytes < declared_bytes < _WAV_UNKNOWN_SIZE_MIN:
        raise TruncatedAudioError(
            f"the audio file is truncated: its data chunk declares {declared_bytes} bytes, {present_bytes} are present"
        )


def _too_long_message(duration_s: float, max_duration_s: float) -> str:
    return f"the audio is {duration_s:.1f} s long; at most {max_duration_s:g} s is accepted"
