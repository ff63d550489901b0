"""ChunkedTranscriber: the model keeps working while decoding runs in its own threads; words stream as they become
final; a decoder that is not configured is a clear error."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from transcription import ChunkedTranscriber, ChunkPlan, FrameGeometry, GreedyDecoder, UnknownDecoderError
from wav2vec2.tokenizer import Wav2Vec2CTCTokenizer

GEOMETRY = FrameGeometry(320, 400)
WORD_EVERY_S = 1.0


def speech_logits(num_frames: int, first_frame: int) -> np.ndarray:
    """Logits of a "model" that hears the word "TE" at the start of every second of audio, blank elsewhere."""
    frames = first_frame + np.arange(num_frames)
    tokens = np.zeros(num_frames, dtype=np.int64)  # <pad>, the blank
    position = frames % int(WORD_EVERY_S / GEOMETRY.frame_s)
    tokens[position == 0], tokens[position == 1], tokens[position == 2] = 6, 5, 4  # T, E, |
    logits = np.zeros((num_frames, 32), dtype=np.float32)
    logits[np.arange(num_frames), tokens] = 12.0
    return logits


class RecordingDecoder(GreedyDecoder):
    """A greedy decoder that notes its thread and, once, waits until the model has run further batches."""

    def __init__(self, model_calls: list[str], wait_for_calls: int) -> None:
        super().__init__(Wav2Vec2CTCTokenizer())
        self.threads: set[str] = set()
        self.model_ran_meanwhile = True
        self._model_calls = model_calls
        self._wait_for_calls = wait_for_calls

    def decode(self, log_probs, first_frame, frame_s):
        self.threads.add(threading.current_thread().name)
        deadline = time.monotonic() + 10.0
        while len(self._model_calls) < self._wait_for_calls:
            if time.monotonic() > deadline:
                self.model_ran_meanwhile = False
                break
            time.sleep(0.01)
        return super().decode(log_probs, first_frame, frame_s)


def make_transcriber(decoder, model_calls: list[str], chunks_per_call: int = 2):
    model_thread = ThreadPoolExecutor(1, thread_name_prefix="model")

    async def logits_fn(chunks):
        def run():
            model_calls.append(threading.current_thread().name)
            # Windows start at multiples of 320 samples: the first sample's value says where (see below).
            return [speech_logits(GEOMETRY.num_frames(len(chunk)), int(chunk[0])) for chunk in chunks]

        return await asyncio.get_running_loop().run_in_executor(model_thread, run)

    plan = ChunkPlan.from_seconds(4.0, 0.5, GEOMETRY)
    return ChunkedTranscriber(
        logits_fn, {"greedy": decoder}, "greedy", plan, ThreadPoolExecutor(2, thread_name_prefix="decode"),
        chunks_per_call=chunks_per_call,
    )  # fmt: skip


def frame_index_audio(duration_s: float) -> np.ndarray:
    """Audio whose every sample holds the index of the frame it starts, so the fake model knows where it is."""
    return (np.arange(int(duration_s * 16_000)) // 320).astype(np.float32)


def test_decoding_runs_off_the_model_thread_while_the_model_runs_ahead():
    model_calls: list[str] = []
    # The first decode waits until the model has been called twice more: that only happens if the model
    # thread is free while decoding runs (a decoder on the model thread would wait until its timeout).
    decoder = RecordingDecoder(model_calls, wait_for_calls=3)
    transcriber = make_transcriber(decoder, model_calls)
    transcript = asyncio.run(transcriber.transcribe(frame_index_audio(60.0)))
    assert decoder.model_ran_meanwhile
    assert {name.split("_")[0] for name in model_calls} == {"model"}
    assert decoder.threads and all(name.startswith("decode") for name in decoder.threads)
    assert transcript.text == " ".join(["TE"] * 60)
    assert [w.start_s for w in transcript.words] == pytest.approx([float(s) for s in range(60)])


def test_words_stream_chunk_by_chunk_and_equal_the_whole_transcript():
    model_calls: list[str] = []
    transcriber = make_transcriber(RecordingDecoder(model_calls, wait_for_calls=0), model_calls, chunks_per_call=1)
    audio = frame_index_audio(30.0)

    async def collect():
        return [words async for words in transcriber.transcribe_chunks(audio)]

    pieces = asyncio.run(collect())
    assert len(pieces) > 3
    assert [w for piece in pieces for w in piece] == list(asyncio.run(transcriber.transcribe(audio)).words)


def test_an_unconfigured_decoder_is_refused_with_the_available_ones():
    transcriber = make_transcriber(GreedyDecoder(Wav2Vec2CTCTokenizer()), [])
    with pytest.raises(UnknownDecoderError, match="'lm' is not available here; available: greedy"):
        asyncio.run(transcriber.transcribe(frame_index_audio(1.0), "lm"))
