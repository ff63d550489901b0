"""One Wyoming connection: `describe` -> `info`; `transcribe`, `audio-start`, `audio-chunk`s, `audio-stop` ->
`transcript-start`, a `transcript-chunk` per final segment (as it is decoded, before `audio-stop` for long speech),
`transcript`, `transcript-stop`. Older clients ignore the streaming events and read `transcript`.

Audio runs through the gateway's `StreamSession`, so the words are decoded exactly as on `WS /v1/stream`, under the
same limits (the `ASR_STREAM_*` settings): every way a connection ends other than the client hanging up is an
`error` event (its code from the WebSocket's table, `service.api.errors`), then the server closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from wyoming.asr import Transcribe, Transcript, TranscriptChunk, TranscriptStart, TranscriptStop
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import AsrModel, AsrProgram, Attribution, Describe, Info
from wyoming.server import AsyncEventHandler

from service.api.errors import websocket_close
from service.config import Settings
from service.errors import SlowClientError, StreamDurationError, StreamIdleError
from service.models.registry import ModelRegistry
from service.streaming import StreamResult, StreamSession, WindowPolicy
from service.streaming.limits import StreamSlots, model_session
from service.streaming.session import Final
from service.wyoming.audio import AudioFormat, ChunkConverter
from service.wyoming.event_reader import read_event

logger = logging.getLogger(__name__)

# After an `error` event the server closes its side and waits up to this long for the client to close: closing
# with unread bytes resets the connection, and a reset can discard the error event before the client reads it.
# Meanwhile it drops up to this much of what the client still sends, then stops reading, so that a client still
# sending a large payload is held up by full buffers (no CPU, no memory here) rather than reset.
_LINGER_S = 1.0
_LINGER_MAX_BYTES = 64 * 1024
_ERROR_WRITE_TIMEOUT_S = 5.0

_ATTRIBUTION = Attribution(name="wav2vec2-asr", url="https://arxiv.org/abs/2006.11477")


def describe_service(models: list[tuple[str, str]], version: str) -> Info:
    """Return the `info` answer to `describe`: one ASR program serving each `(name, language code)` model, the
    default first (a `transcribe` event picks one by `name`)."""
    asr_models = [
        AsrModel(
            name=model_name,
            attribution=_ATTRIBUTION,
            installed=True,
            description=f"wav2vec 2.0 CTC model {model_name!r}",
            version=version,
            languages=[language],
        )
        for model_name, language in models
    ]
    program = AsrProgram(
        name="wav2vec2-asr",
        attribution=_ATTRIBUTION,
        installed=True,
        description="wav2vec 2.0 speech recognition (TensorFlow)",
        version=version,
        models=asr_models,
        supports_transcript_streaming=True,
    )
    return Info(asr=[program])


class WyomingAsrHandler(AsyncEventHandler):
    """Serves one connection: a slot of `slots` while it is open, a new `StreamSession` per `audio-start`."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        info: Info,
        models: ModelRegistry,
        policy: WindowPolicy,
        settings: Settings,
        slots: StreamSlots,
        idle_timeout_s: float | None,
    ) -> None:
        super().__init__(reader, writer)
        self._info = info
        self._policy = policy
        self._settings = settings
        self._slots = slots
        self._idle_timeout_s = idle_timeout_s  # None on stdio, where the one client is the parent process
        self._models = models
        self._choose_model(None)
        self._session: StreamSession | None = None
        self._decoding: asyncio.Task[None] | None = None
        self._converter = ChunkConverter()
        self._audio_s = 0.0
        self._started = False

    async def run(self) -> None:
        """Serve events until the client closes the connection, or end it with an `error` event."""
        try:
            with self._slots.held():
                await self._serve()
        except ConnectionError:
            pass  # the client went away: nobody to tell
        except Exception as error:  # noqa: BLE001 - every other ending is an error event, mapped in one table
            await self._end_with(error)
        finally:
            await self._close_session()
            self.writer.close()

    async def _serve(self) -> None:
        while True:
            try:
                event = await asyncio.wait_for(
                    read_event(self.reader, self._settings.wyoming.max_payload_bytes), self._idle_timeout_s
                )
            except TimeoutError:
                raise StreamIdleError(f"nothing received for {self._idle_timeout_s:g} s") from None
            if event is None or not await self.handle_event(event):
                return

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(self._info.event())
        elif Transcribe.is_type(event.type):
            await self._close_session()  # a new request starts afresh
            self._choose_model(Transcribe.from_event(event).name)
        elif AudioStart.is_type(event.type):
            AudioFormat.of(event)  # a bad format is refused now, not at the first chunk
            await self._close_session()
            self._open_session()
        elif AudioChunk.is_type(event.type):
            await self._on_chunk(AudioFormat.of(event), event.payload or b"")
        elif AudioStop.is_type(event.type):
            await self._on_stop()
        return True

    async def write_event(self, event: Event) -> None:
        """Send `event`; `SlowClientError` if the client does not read it within the idle timeout."""
        try:
            await asyncio.wait_for(super().write_event(event), self._idle_timeout_s)
        except TimeoutError:
            raise SlowClientError(f"the client read nothing for {self._idle_timeout_s:g} s") from None

    def _choose_model(self, name: str | None) -> None:
        """Transcribes with the model `name` (None: the default) from now on; `ModelNotFoundError` if none."""
        model = self._models.get(name)
        self._language = model.settings.model.language_code
        self._model = model

    def _open_session(self) -> StreamSession:
        # One session (and so one cache) per transcription.
        self._session = model_session(
            self._model.transcribe, None, self._settings, self._slots, self._on_result, self._policy
        )
        self._decoding = self._session.start()
        self._converter, self._audio_s, self._started = ChunkConverter(), 0.0, False
        return self._session

    async def _on_chunk(self, audio_format: AudioFormat, audio: bytes) -> None:
        audio_format.check_whole_frames(len(audio))
        session = self._session or self._open_session()
        if self._decoding is not None and self._decoding.done():
            self._decoding.result()  # the decoder failed (backend error, a client that does not read): that ends it
        self._audio_s += audio_format.seconds(len(audio))
        if self._audio_s > self._settings.stream.max_duration_s:
            raise StreamDurationError(
                f"the transcription reached its {self._settings.stream.max_duration_s:g} s limit of audio"
            )
        # Resampling a chunk at the payload cap takes milliseconds of CPU: off the event loop, which serves
        # every other connection.
        session.feed(await asyncio.to_thread(self._converter.convert, audio_format, audio))

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

    async def _on_stop(self) -> None:
        session = self._session or self._open_session()
        session.feed(self._converter.flush())
        await session.finish()
        await self._start_transcript()
        await self.write_event(Transcript(text=session.text, language=self._language).event())
        await self.write_event(TranscriptStop().event())
        self._session = self._decoding = None

    async def _close_session(self) -> None:
        if self._session is not None:
            await self._session.cancel()
        if self._decoding is not None and self._decoding.done() and not self._decoding.cancelled():
            self._decoding.exception()  # retrieved: a decoder that failed as the client left is not an error
        self._session = self._decoding = None

    async def _end_with(self, error: Exception) -> None:
        """Send the `error` event for `error`, then close our side and let the client read it."""
        _, event = websocket_close(error)
        code, message = event["error"]["code"], event["error"]["message"]
        logger.info("wyoming connection closed: %s: %s", code, message)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(super().write_event(Error(text=message, code=code).event()), _ERROR_WRITE_TIMEOUT_S)
            if self.writer.can_write_eof():
                self.writer.write_eof()
            async with asyncio.timeout(_LINGER_S):
                discarded_bytes = 0
                while discarded_bytes < _LINGER_MAX_BYTES and (block := await self.reader.read(_LINGER_MAX_BYTES)):
                    discarded_bytes += len(block)
                if discarded_bytes >= _LINGER_MAX_BYTES:
                    await asyncio.sleep(_LINGER_S)
