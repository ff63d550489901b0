"""What the settings allow a stream: its window policy, how many streams may be open at once, and its session."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from functools import partial

import numpy as np

from service.config import MODEL_SAMPLE_RATE_HZ, Settings
from service.errors import TooManyStreamsError
from service.streaming.feature_cache import StreamCache
from service.streaming.session import ResultSink, StreamSession
from service.streaming.window import TranscribeFn, WindowPolicy
from transcription import Transcript


def window_policy(settings: Settings) -> WindowPolicy:
    """Return the sliding-window policy the settings describe."""
    return WindowPolicy(
        sample_rate_hz=MODEL_SAMPLE_RATE_HZ,
        hop_s=settings.stream.hop_s,
        left_context_s=settings.stream.left_context_s,
        right_context_s=settings.stream.right_context_s,
        pause_s=settings.stream.pause_s,
        max_segment_s=settings.stream.max_segment_s,
    )


class StreamSlots:
    """Counts open streams against a cap, and bounds their decodes in flight; one per process.

    Each stream has at most one decode in flight; `max_decodes` bounds them all together, so however many streams
    are open they take at most that many places in the model's batches and an HTTP request still finds room in
    the next one (the streams wait for each other instead, which only coarsens their partials).
    """

    def __init__(self, max_streams: int, max_decodes: int) -> None:
        self.max_streams = max_streams
        self.open = 0
        self.decoding = asyncio.Semaphore(max_decodes)

    def limit(self, transcribe: TranscribeFn) -> TranscribeFn:
        """Return `transcribe` that first waits for one of the shared decode places."""

        async def limited(samples: np.ndarray) -> Transcript:
            async with self.decoding:
                return await transcribe(samples)

        return limited

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Hold a slot for the block, or raise `TooManyStreamsError` when all are taken."""
        if self.open >= self.max_streams:
            raise TooManyStreamsError(f"{self.max_streams} streams are already open; retry later")
        self.open += 1
        try:
            yield
        finally:
            self.open -= 1


def model_session(
    transcribe: Callable[..., Awaitable[Transcript]],
    decoder: str | None,
    settings: Settings,
    slots: StreamSlots,
    on_result: ResultSink,
    policy: WindowPolicy,
) -> StreamSession:
    """Return one stream's session over a model's `transcribe` (`ManagedModel.transcribe`), as every door opens it:
    its decodes wait for one of the shared decode places and reuse what its earlier hops computed (a cache of its
    own), and it ends with `StreamBacklogError` past the backlog cap."""
    cache = StreamCache(reuse_features=settings.stream.reuse_features)
    limited = slots.limit(partial(transcribe, decoder=decoder, wrap_logits=cache.wrap))
    return StreamSession(limited, on_result, policy, max_backlog_s=settings.stream.max_backlog_s)
