"""One Wyoming connection: `describe` -> `info`; `transcribe`, `audio-start`, `audio-chunk`s, `audio-stop` ->
`transcript-start`, a `transcript-chunk` per final segment (as it is decoded, before `audio-stop` for long speech),
`transcript`, `transcript-stop`. Older clients ignore the streaming events and read `transcript`.

Audio runs through the gateway's `StreamSession`, so the words are decoded exactly as on `WS /v1/stream`.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial

import numpy as np
from wyoming.asr import Transcribe, Transcript, TranscriptChunk, TranscriptStart, TranscriptStop
from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import AsrModel, AsrProgram, Attribution, Describe, Info
from wyoming.server import AsyncEventHandler

from service.backends import Backend
from service.core.errors import ServiceError
from service.streaming import PcmConverter, StreamResult, StreamSession, WindowPolicy
from service.streaming.limits import StreamSlots
from service.streaming.session import Final
from wav2vec2.errors import AudioError

logger = logging.getLogger(__name__)

_ATTRIBUTION = Attribution(name="wav2vec2-asr", url="https://arxiv.org/abs/2006.11477")


def describe_service(model_name: str, language: str, version: str) -> Info:
    """Return the `info` answer to `describe`: one ASR program serving our model in its language."""
    model = AsrModel(
        name=model_name,
        attribution=_ATTRIBUTION,
        installed=True,
        description=f"wav2vec 2.0 CTC model {model_name!r}",
        version=version,
        languages=[language],
    )
    program = AsrProgram(
        name="wav2vec2-asr",
        attribution=_ATTRIBUTION,
        installed=True,
        description="wav2vec 2.0 speech recognition (TensorFlow)",
        version=version,
        models=[model],
        supports_transcript_streaming=True,
    )
    return Info(asr=[program])


class WyomingAsrHandler(AsyncEventHandler):
    """Answers one client's events; a new `StreamSession` per `audio-start` (or first chunk)."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        info: Info,
        backend: Backend,
        policy: WindowPolicy,
        language: str,
        slots: StreamSlots,
        max_backlog_s: float = 30.0,
    ) -> None:
        super().__init__(reader, writer)
        self._info = info
        self._backend = backend
        self._policy = policy
        self._language = language
        self._max_backlog_s = max_backlog_s
        self._transcribe = slots.limit(partial(backend.transcribe, decoder=None))
        # Wyoming audio is any width/channel count: to 16-bit mono here, then soxr (same filter as uploads) to 16 kHz.
        self._to_s16_mono = AudioChunkConverter(width=2, channels=1)
        self._session: StreamSession | None = None
        self._pcm: PcmConverter | None = None
        self._started = False

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(self._info.event())
        elif Transcribe.is_type(event.type):
            await self._close_session()  # a new request starts afresh
        elif AudioStart.is_type(event.type):
            await self._close_session()
            self._open_session()
        elif AudioChunk.is_type(event.type):
            return await self._on_chunk(AudioChunk.from_event(event))
        elif AudioStop.is_type(event.type):
            return await self._on_stop()
        return True

    def _open_session(self) -> None:
        self._session = StreamSession(
            self._transcribe,
            self._on_result,
            self._policy,
            max_backlog_s=self._max_backlog_s,
        )
        self._session.start()
        self._pcm, self._started = None, False

    async def _on_chunk(self, chunk: AudioChunk) -> bool:
        if self._session is None:
            self._open_session()
        chunk = self._to_s16_mono.convert(chunk)
        if self._pcm is None or self._pcm.sample_rate_hz != chunk.rate:
            samples = self._pcm.flush() if self._pcm is not None else np.zeros(0, np.float32)
            self._pcm = PcmConverter("pcm_s16le", chunk.rate, 1)
            self._feed(samples)
        return self._feed(self._pcm.convert(chunk.audio))

    def _feed(self, samples: np.ndarray) -> bool:
        if self._session is not None and len(samples):
            self._session.feed(samples)
        return True

    async def _on_result(self, result: StreamResult) -> None:
        if not isinstance(result, Final):
            return  # Wyoming has no partial results
        separator = " " if self._started else ""
        await self._start_transcript()
        await self.write_event(TranscriptChunk(separator + result.segment.text).event())

    async def _start_transcript(self) -> None:
        if not self._started:
            self._started = True
            await self.write_event(TranscriptStart(language=self._language).event())

    async def _on_stop(self) -> bool:
        session = self._session or StreamSession(self._transcribe, self._on_result, self._policy)
        if self._pcm is not None:
            self._feed(self._pcm.flush())
        try:
            await session.finish()
        except (ServiceError, AudioError) as error:
            logger.warning("wyoming transcription failed: %s", error)
            await self.write_event(Error(text=str(error), code=getattr(error, "code", "audio_error")).event())
            self._session = None
            return True
        await self._start_transcript()
        await self.write_event(Transcript(text=session.text, language=self._language).event())
        await self.write_event(TranscriptStop().event())
        self._session, self._pcm, self._started = None, None, False
        return True

    async def _close_session(self) -> None:
        if self._session is not None:
            await self._session.cancel()
        self._session, self._pcm, self._started = None, None, False

    async def disconnect(self) -> None:
        await self._close_session()
