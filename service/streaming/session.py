"""One live stream: audio is fed as it arrives, a background task re-decodes the window and reports results.

Transport-free (the WebSocket route and the Wyoming handler both drive it). At most one decode per stream is in
flight: audio that arrives meanwhile is decoded together by the next one, so a stream never queues more model work
than one window, however fast audio comes, and the shared backend's queue stays fair to the HTTP API.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np

from service.errors import StreamBacklogError
from service.streaming.window import SlidingWindow, TranscribeFn, WindowPolicy
from transcription import Segment, Word


@dataclass(frozen=True)
class Partial:
    """The open segment as decoded so far; a later partial or its final may change it."""

    segment_id: int
    start_s: float
    text: str
    words: tuple[Word, ...]
    decoded_until_s: float  # the decode saw the stream's audio up to here


@dataclass(frozen=True)
class Final:
    """A segment that will not change."""

    segment: Segment


StreamResult = Partial | Final
ResultSink = Callable[[StreamResult], Awaitable[None]]


class StreamSession:
    """Feeds a `SlidingWindow` and decodes it in a task; results go to `on_result` in order."""

    def __init__(
        self,
        transcribe: TranscribeFn,
        on_result: ResultSink,
        policy: WindowPolicy | None = None,
        max_backlog_s: float = 30.0,
    ) -> None:
        self.window = SlidingWindow(policy or WindowPolicy())
        self._transcribe = transcribe
        self._on_result = on_result
        self._max_backlog_s = max_backlog_s
        self._wake = asyncio.Event()
        self._ending = False
        self._last_partial_text = ""
        self._task: asyncio.Task[None] | None = None
        self.finals: list[Segment] = []

    def start(self) -> asyncio.Task[None]:
        """Start the decode task; it ends after `finish`, or raises the backend's error."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="asr-stream-decoder")
        return self._task

    @property
    def text(self) -> str:
        """The text of every final so far."""
        return " ".join(segment.text for segment in self.finals if segment.text)

    def feed(self, samples: np.ndarray) -> None:
        """Append 16 kHz mono float32 audio; `StreamBacklogError` if decoding has fallen too far behind."""
        self.window.feed(samples)
        if self.window.backlog_s > self._max_backlog_s:
            raise StreamBacklogError(
                f"the server is {self.window.backlog_s:.1f} s of audio behind this stream "
                f"(limit {self._max_backlog_s:g} s); retry later"
            )
        if self.window.backlog_s >= self.window.policy.hop_s:
            self._wake.set()

    async def finish(self) -> list[Segment]:
        """Decode what is left, report the last finals, and return all of the stream's finals."""
        task = self._task or self.start()
        self._ending = True
        self._wake.set()
        await task
        return self.finals

    async def cancel(self) -> None:
        """Stop decoding without flushing (the client went away)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        hop_s = self.window.policy.hop_s
        while not self._ending:
            await self._wake.wait()
            self._wake.clear()
            if self._ending:
                break
            await self._step(flush=False)
            if self.window.backlog_s >= hop_s:
                self._wake.set()  # audio came in during the decode: go again at once
        while not self.window.finished:
            await self._step(flush=True)

    async def _step(self, flush: bool) -> None:
        window = self.window
        finals, open_words = await window.decode(self._transcribe, flush=flush)
        for segment in finals:
            self.finals.append(segment)
            self._last_partial_text = ""
            await self._on_result(Final(segment))
        text = " ".join(word.text for word in open_words)
        if not flush and text != self._last_partial_text:
            self._last_partial_text = text
            start_s = open_words[0].start_s if open_words else window.segment_start_s
            segment_id = len(self.finals)
            await self._on_result(Partial(segment_id, start_s, text, open_words, window.decoded_until_s))
