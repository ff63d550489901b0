"""The silence gate: silent windows skip the model, speech (quiet speech included) never does, and the transcript
of the heard windows is the one the model would give anyway."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from bench.joined_audio import fixture_utterances
from transcription import ChunkedTranscriber, ChunkPlan, FrameGeometry, GreedyDecoder
from transcription.silence import SilenceGate
from wav2vec2.tokenizer import Wav2Vec2CTCTokenizer

GEOMETRY = FrameGeometry(320, 400)
PLAN = ChunkPlan.from_seconds(5.0, 1.0, GEOMETRY)
RATE_HZ = 16_000


def silent_indices(samples: np.ndarray) -> set[int]:
    return SilenceGate().silent_windows(samples, list(PLAN.windows(len(samples))), GEOMETRY.samples_per_frame)


def padded(speech: np.ndarray, silence_s: float, noise_dbfs: float | None = None) -> np.ndarray:
    """`speech` between two stretches of `silence_s` of digital silence (or of white noise at `noise_dbfs`)."""
    gap = np.zeros(int(silence_s * RATE_HZ), np.float32)
    audio = np.concatenate([gap, speech, gap]).astype(np.float32)
    if noise_dbfs is not None:
        audio += (10 ** (noise_dbfs / 20) * np.random.default_rng(0).standard_normal(len(audio))).astype(np.float32)
    return audio


def windows_touching(samples: np.ndarray, start: int, end: int) -> set[int]:
    return {w.index for w in PLAN.windows(len(samples)) if w.start < end and w.end > start}


@pytest.mark.parametrize("gain_db", [0.0, -40.0])
@pytest.mark.parametrize("noise_dbfs", [None, -80.0])
def test_every_window_holding_a_fixture_recording_is_heard_and_the_silence_around_it_is_skipped(gain_db, noise_dbfs):
    for path, speech in list(fixture_utterances().items())[::4]:
        audio = padded(speech * 10 ** (gain_db / 20), 20.0, noise_dbfs)
        speech_start = int(20.0 * RATE_HZ)
        speaking = windows_touching(audio, speech_start, speech_start + len(speech))
        silent = silent_indices(audio)
        assert not silent & speaking, path.name
        assert len(silent) >= 2 * 20 // 3 - 2, path.name  # the 20 s each side, in 3 s steps, less the edges


def test_quiet_speech_is_heard_beside_loud_speech_40_db_louder():
    utterances = list(fixture_utterances().values())
    loud, quiet = utterances[0] / np.abs(utterances[0]).max(), 0.01 * utterances[1] / np.abs(utterances[1]).max()
    gap = np.zeros(15 * RATE_HZ, np.float32)
    audio = np.concatenate([loud, gap, quiet, gap]).astype(np.float32)
    quiet_start = len(loud) + len(gap)
    assert not silent_indices(audio) & windows_touching(audio, quiet_start, quiet_start + len(quiet))


def test_room_tone_alone_is_heard_and_digital_silence_alone_is_skipped():
    # Without speech to compare with, noise at -60 dBFS might be a very quiet voice: the model decides.
    noise = (1e-3 * np.random.default_rng(1).standard_normal(12 * RATE_HZ)).astype(np.float32)
    assert silent_indices(noise) == set()
    assert silent_indices(np.zeros(12 * RATE_HZ, np.float32)) == set(range(PLAN.num_windows(12 * RATE_HZ)))


def test_an_hour_of_silence_is_judged_in_seconds():
    hour = np.zeros(3600 * RATE_HZ, np.float32)
    started = time.perf_counter()
    assert len(silent_indices(hour)) == PLAN.num_windows(len(hour))
    assert time.perf_counter() - started < 5.0  # measured 0.1 s on 2 cores; the model would take minutes


def speech_where_loud(chunk: np.ndarray) -> np.ndarray:
    """A fake model: "TE" at every 50th frame whose samples are not silent, blank elsewhere (logits [frames, 32])."""
    num_frames = GEOMETRY.num_frames(len(chunk))
    frames = np.lib.stride_tricks.sliding_window_view(chunk, 400)[:: GEOMETRY.samples_per_frame][:num_frames]
    loud = np.abs(frames).max(axis=1) > 1e-3
    tokens = np.zeros(num_frames, np.int64)
    position = np.arange(num_frames) % 50
    for offset, token in enumerate((6, 5, 4)):  # T, E, |
        tokens[(position == offset) & loud] = token
    logits = np.zeros((num_frames, 32), np.float32)
    logits[np.arange(num_frames), tokens] = 12.0
    return logits


def transcribe(audio: np.ndarray, gate: SilenceGate | None) -> tuple[str, int]:
    """Return the transcript of `audio` by the fake model, and how many chunks the model was given."""
    seen = []

    async def logits_fn(chunks):
        seen.extend(chunks)
        return [speech_where_loud(chunk) for chunk in chunks]

    transcriber = ChunkedTranscriber(
        logits_fn, {"greedy": GreedyDecoder(Wav2Vec2CTCTokenizer())}, "greedy", PLAN, ThreadPoolExecutor(1),
        chunks_per_call=4, silence_gate=gate,
    )  # fmt: skip
    transcript = asyncio.run(transcriber.transcribe(audio))
    return " ".join(f"{w.text}@{w.start_s:.2f}" for w in transcript.words), len(seen)


def test_skipped_windows_leave_the_transcript_as_the_model_gives_it():
    rng = np.random.default_rng(2)
    tone = (0.3 * rng.standard_normal(8 * RATE_HZ)).astype(np.float32)
    silence = np.zeros(60 * RATE_HZ, np.float32)
    audio = np.concatenate([tone, silence, tone, silence, tone[: 3 * RATE_HZ]])
    gated, gated_chunks = transcribe(audio, SilenceGate())
    heard_everywhere, all_chunks = transcribe(audio, None)
    assert gated == heard_everywhere and gated.count("TE@") > 10
    assert all_chunks == PLAN.num_windows(len(audio)) and gated_chunks < all_chunks / 4
