"""The one path from audio to a Transcript: chunk → model (batched) → stitch → decode (off the model thread) → segments.

The engine (`engine.engine`) runs this class for every door and `asr transcribe`; its logits sources differ only
in `logits_fn`, the model call (the in-process micro-batcher, or a TF Serving `Predict`). Decoding (greedy or LM
beam search) runs on `decode_executor`, never on the model's thread, so the model serves the next batch meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Protocol

import numpy as np

from transcription.assembler import WordAssembler
from transcription.chunking import ChunkPlan, FrameGeometry, Window
from transcription.decoders import Decoder
from transcription.errors import UnknownDecoderError
from transcription.segments import SegmentRules, group_words
from transcription.silence import SilenceGate
from transcription.types import Transcript, Word

# chunks (each [samples] float32, 16 kHz) -> their logits (each [frames, vocab]), in order.
LogitsFn = Callable[[Sequence[np.ndarray]], Awaitable[list[np.ndarray]]]
# Seconds of audio transcribed so far -> None; called as a transcription advances.
ProgressFn = Callable[[float], None]


class FeatureHalves(Protocol):
    """The model in two halves, where the runtime has them (a SavedModel exported with `conv_features`): a caller
    that keeps the conv features of audio it has encoded (a live stream) runs only the rest again."""

    geometry: FrameGeometry

    async def conv_features(self, audio: np.ndarray, first_frame: int) -> np.ndarray:
        """Return the conv features `[frames - first_frame, dim]` of frames `first_frame`.. of `audio` ([samples])."""

    async def logits_from_features(self, features: np.ndarray) -> np.ndarray:
        """Return the logits `[frames, vocab]` of one utterance's conv features `[frames, dim]`."""


# A caller's wrapper around one request's model call, given the model's halves or None (a stream's cache:
# service/streaming/feature_cache.py).
WrapLogitsFn = Callable[[LogitsFn, FeatureHalves | None], LogitsFn]


class ChunkedTranscriber:
    """Transcribes audio of any length with a model call `logits_fn` and the configured decoders."""

    def __init__(
        self,
        logits_fn: LogitsFn,
        decoders: Mapping[str, Decoder],
        default_decoder: str,
        plan: ChunkPlan,
        decode_executor: Executor,
        chunks_per_call: int,
        calls_ahead: int = 2,
        segment_rules: SegmentRules | None = None,
        silence_gate: SilenceGate | None = None,
    ) -> None:
        if default_decoder not in decoders:
            raise ValueError(f"default decoder {default_decoder!r} is not one of {sorted(decoders)}")
        self._logits_fn = logits_fn
        self.decoders = dict(decoders)
        self.default_decoder = default_decoder
        self.plan = plan
        self._executor = decode_executor
        self._chunks_per_call = max(1, chunks_per_call)
        # Model calls started before their results are needed: the model works while the decoder decodes, and
        # at most (calls_ahead + 1) * chunks_per_call chunks' logits are held at once.
        self._calls_ahead = max(0, calls_ahead)
        self._segment_rules = segment_rules or SegmentRules()
        self._silence_gate = silence_gate

    def decoder(self, name: str | None) -> Decoder:
        """Return the decoder a request asks for (None: the configured default)."""
        name = name or self.default_decoder
        if name not in self.decoders:
            raise UnknownDecoderError(
                f"decoder {name!r} is not available here; available: {', '.join(sorted(self.decoders))}"
            )
        return self.decoders[name]

    async def transcribe_chunks(
        self, samples: np.ndarray, decoder: str | None = None, logits_fn: LogitsFn | None = None
    ) -> AsyncIterator[list[Word]]:
        """Yield the words of `samples` (16 kHz mono float32) as they become final, times in whole-file seconds.

        `logits_fn`: this request's model call (a source's per-request lane), else the one given at construction.
        Windows the silence gate finds silent are not sent to the model.
        """
        async with contextlib.aclosing(self._assemble(samples, decoder, logits_fn)) as pieces:
            async for words, _ in pieces:
                if words:
                    yield words

    async def _assemble(
        self, samples: np.ndarray, decoder: str | None, logits_fn: LogitsFn | None
    ) -> AsyncIterator[tuple[list[Word], float]]:
        """Yield, window by window, the words that became final and the seconds of audio done so far."""
        chosen = self.decoder(decoder)
        logits_fn = logits_fn or self._logits_fn
        geometry = self.plan.geometry
        max_pending_frames = self.plan.chunk_samples // geometry.samples_per_frame
        assembler = WordAssembler(chosen, geometry.frame_s, max_pending_frames)
        loop = asyncio.get_running_loop()
        windows = list(self.plan.windows(len(samples)))
        silent: set[int] = set()
        if self._silence_gate is not None:
            silent = await loop.run_in_executor(
                self._executor, self._silence_gate.silent_windows, samples, windows, geometry.samples_per_frame
            )
        heard = [window for window in windows if window.index not in silent]
        groups = [heard[i : i + self._chunks_per_call] for i in range(0, len(heard), self._chunks_per_call)]

        def start_call(group: list[Window]) -> asyncio.Task[list[np.ndarray]]:
            return asyncio.ensure_future(logits_fn([samples[w.start : w.end] for w in group]))

        in_flight = [start_call(group) for group in groups[: self._calls_ahead + 1]]
        next_group = len(in_flight)
        heard_logits: list[np.ndarray] = []  # logits of the current group's windows, in order, not yet assembled
        try:
            for window in windows:
                if window.index in silent:
                    words = await loop.run_in_executor(self._executor, assembler.add_silence, window)
                else:
                    if not heard_logits:
                        heard_logits = await in_flight.pop(0)
                        if next_group < len(groups):
                            in_flight.append(start_call(groups[next_group]))
                            next_group += 1
                    words = await loop.run_in_executor(self._executor, assembler.add, window, heard_logits.pop(0))
                yield words, min(window.keep_end * geometry.frame_s, len(samples) / geometry.sample_rate_hz)
            words = await loop.run_in_executor(self._executor, assembler.finish)
            yield words, len(samples) / geometry.sample_rate_hz
        finally:
            for task in in_flight:
                task.cancel()

    async def transcribe(
        self,
        samples: np.ndarray,
        decoder: str | None = None,
        logits_fn: LogitsFn | None = None,
        on_progress: ProgressFn | None = None,
    ) -> Transcript:
        """Return the whole Transcript of `samples`: text, words, segments, and the decoder's name.

        `on_progress(done_s)` is called after each window with the seconds of audio transcribed so far (a CLI's
        progress bar); it runs on the event loop, so it must be quick.
        """
        chosen = self.decoder(decoder)
        words: list[Word] = []
        # aclosing: a cancelled request closes the generator now, which cancels its model calls in flight.
        async with contextlib.aclosing(self._assemble(samples, chosen.name, logits_fn)) as pieces:
            async for window_words, done_s in pieces:
                words.extend(window_words)
                if on_progress is not None:
                    on_progress(done_s)
        return Transcript(
            text=" ".join(word.text for word in words),
            duration_s=len(samples) / self.plan.geometry.sample_rate_hz,
            decoder=chosen.name,
            words=tuple(words),
            segments=group_words(words, self._segment_rules),
        )
