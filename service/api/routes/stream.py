"""`WS /v1/stream`: live audio in, partial and final transcripts out (protocol: docs/streaming.md).

The route is the transport and the limits; the decoding is `service.streaming.StreamSession`. Every way a stream
ends is an exception mapped to a close code in `service.api.errors.websocket_close`, after an `error` event.
A stream takes one of the `ASR_STREAM_MAX_STREAMS` slots only once its config has come and its key is checked, so
connections that send nothing (or no key) cannot crowd out the streams of those that do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import TypeVar

from fastapi import APIRouter, WebSocket
from pydantic import ValidationError
from starlette.websockets import WebSocketDisconnect

from service.api.auth import check_api_key
from service.api.errors import NORMAL_CLOSE, validation_message, websocket_close
from service.config import Settings
from service.draining import Draining
from service.errors import (
    InvalidStreamMessageError,
    ServerShuttingDownError,
    StreamDurationError,
    StreamIdleError,
    StreamTooFastError,
    UnauthorizedError,
)
from service.models.managed import ManagedModel
from service.streaming import PcmConverter, StreamResult, StreamSession
from service.streaming.limits import StreamSlots, model_session, window_policy
from service.streaming.outbox import EventOutbox
from service.streaming.protocol import EndOfAudio, StreamConfig, result_event

logger = logging.getLogger(__name__)
Message = TypeVar("Message", StreamConfig, EndOfAudio)
router = APIRouter(prefix="/v1", tags=["streaming"])

_MAX_REASON_BYTES = 123  # RFC 6455: a close frame's reason fits in 123 bytes


class _Clock:
    """The connection's deadlines: idle time since the last message, and its total duration."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.opened = time.monotonic()

    def receive_timeout_s(self) -> tuple[float, bool]:
        """Return how long the next receive may wait, and whether hitting it is the duration cap."""
        remaining_s = self.opened + self.settings.stream.max_duration_s - time.monotonic()
        return min(self.settings.stream.idle_timeout_s, max(remaining_s, 0.0)), (
            remaining_s <= self.settings.stream.idle_timeout_s
        )


async def _read(websocket: WebSocket, timeout_s: float) -> str | bytes:
    """Return the next message's text or bytes; `TimeoutError` after `timeout_s`, `WebSocketDisconnect` if gone."""
    message = await asyncio.wait_for(websocket.receive(), timeout_s)
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    if message.get("bytes") is not None:
        return message["bytes"]
    return message.get("text") or ""


async def _receive(websocket: WebSocket, clock: _Clock) -> str | bytes:
    """Return the next message's text or bytes; raises on disconnect, idle timeout or the duration cap."""
    timeout_s, is_duration_cap = clock.receive_timeout_s()
    try:
        return await _read(websocket, timeout_s)
    except TimeoutError:
        settings = clock.settings
        if is_duration_cap:
            raise StreamDurationError(f"the stream reached its {settings.stream.max_duration_s:g} s limit") from None
        raise StreamIdleError(f"nothing received for {settings.stream.idle_timeout_s:g} s") from None


def _parse(text: str | bytes, model: type[Message]) -> Message:
    """Return the client's message as `model`; `InvalidStreamMessageError` naming what is wrong otherwise."""
    if isinstance(text, bytes):
        raise InvalidStreamMessageError("send the JSON config message before any audio")
    try:
        return model.model_validate(json.loads(text))
    except json.JSONDecodeError as error:
        raise InvalidStreamMessageError(f"the {model.__name__} message is not JSON: {error}") from None
    except RecursionError:  # json.loads of thousands of nested brackets
        raise InvalidStreamMessageError(f"the {model.__name__} message is nested too deeply") from None
    except ValidationError as error:
        raise InvalidStreamMessageError(
            f"invalid {model.__name__} message: {validation_message(error.errors())}"
        ) from None


async def _receive_config(websocket: WebSocket, settings: Settings) -> StreamConfig:
    """Return the stream's config once it has come with an accepted key; raises after `stream_config_timeout_s`."""
    try:
        config = _parse(await _read(websocket, settings.stream.config_timeout_s), StreamConfig)
    except TimeoutError:
        raise StreamIdleError(f"no config message within {settings.stream.config_timeout_s:g} s") from None
    if not check_api_key(websocket, config.api_key):
        raise UnauthorizedError("a valid API key is needed: send it as the config's api_key or as a Bearer token")
    return config


async def _receive_audio(websocket: WebSocket, session: StreamSession, converter: PcmConverter, clock: _Clock) -> None:
    """Feed audio frames to `session` until the end message; enforces the idle, duration and real-time limits."""
    settings = clock.settings
    first_audio_at: float | None = None
    received_s = 0.0
    while True:
        message = await _receive(websocket, clock)
        if isinstance(message, str):
            _parse(message, EndOfAudio)
            session.feed(converter.flush())
            return
        now = time.monotonic()
        first_audio_at = first_audio_at if first_audio_at is not None else now
        received_s += converter.seconds(len(message))
        lead_s = received_s - (now - first_audio_at)
        if lead_s > settings.stream.max_lead_s:
            raise StreamTooFastError(
                f"audio is arriving {lead_s:.1f} s ahead of real time (limit {settings.stream.max_lead_s:g} s)"
            )
        try:
            samples = converter.convert(message)
        except ValueError as error:
            raise InvalidStreamMessageError(str(error)) from None
        session.feed(samples)


async def _run_stream(
    websocket: WebSocket, config: StreamConfig, settings: Settings, backend: ManagedModel, slots: StreamSlots,
    outbox: EventOutbox, draining: Draining
) -> None:  # fmt: skip
    """Serve one stream to its end; returns after the end message's flush, raises for any other ending.

    A shutdown ends it like the duration cap: the audio received so far is decoded and its finals sent first.
    """
    clock = _Clock(settings)

    async def on_result(result: StreamResult) -> None:
        outbox.put(result_event(result))

    session = model_session(backend.transcribe, config.decoder, settings, slots, on_result, window_policy(settings))
    converter = PcmConverter(config.encoding, config.sample_rate_hz, config.channels)
    decoding = session.start()
    loop = asyncio.get_running_loop()
    receiving = loop.create_task(_receive_audio(websocket, session, converter, clock))
    shutdown = loop.create_task(draining.begun.wait())
    try:
        await asyncio.wait({decoding, receiving, shutdown}, return_when=asyncio.FIRST_COMPLETED)
        if decoding.done() and not receiving.done():  # the decoder failed (backend error, slow client)
            receiving.cancel()
            decoding.result()
        if not receiving.done():  # the server is shutting down: deliver what was heard, then close 1001
            receiving.cancel()
            session.feed(converter.flush())
            await session.finish()
            raise ServerShuttingDownError("the server is shutting down; the finals of the audio received were sent")
        try:
            receiving.result()
        except StreamDurationError:
            await session.finish()  # what was said before the cap is still delivered
            raise
        await session.finish()
    finally:
        receiving.cancel()
        shutdown.cancel()
        await session.cancel()


async def _discard_incoming(websocket: WebSocket) -> None:
    """Read and drop the client's messages until it is gone (or the task is cancelled)."""
    with contextlib.suppress(Exception):  # a client gone mid-read ends the loop like a disconnect
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass


async def _close(
    websocket: WebSocket, outbox: EventOutbox, last_event: dict[str, object] | None, code: int, reason: str,
    timeout_s: float
) -> None:  # fmt: skip
    """Send the queued events, `last_event` and the close frame, giving a client that reads late `timeout_s`.

    The client's frames are read and dropped meanwhile: the stream's reader is gone, and a socket closed with unread
    data in its receive buffer sends a TCP reset, which makes the client's kernel drop the events it has not read yet.
    """
    deadline_s = time.monotonic() + timeout_s
    discarding = asyncio.get_running_loop().create_task(_discard_incoming(websocket))
    try:
        await outbox.close(last_event, timeout_s)
        with contextlib.suppress(Exception):  # the client may be gone already
            await asyncio.wait_for(
                websocket.close(code, reason.encode()[:_MAX_REASON_BYTES].decode()),
                max(deadline_s - time.monotonic(), 0.0),
            )
    finally:
        discarding.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await discarding


@router.websocket("/stream")
async def stream(websocket: WebSocket) -> None:
    """Stream PCM audio in; receive `partial`, `final` and `error` events (docs/streaming.md)."""
    settings: Settings = websocket.app.state.settings
    slots: StreamSlots = websocket.app.state.stream_slots
    draining: Draining = websocket.app.state.draining
    await websocket.accept()
    outbox = EventOutbox(websocket.send_json, settings.stream.max_pending_events)
    outbox.start()
    code, last_event = NORMAL_CLOSE, None
    with draining.stream():
        try:
            config = await draining.unless_begun(_receive_config(websocket, settings))
            backend = websocket.app.state.models.get(config.model)  # 4404 for a model this gateway does not serve
            with slots.held():
                await _run_stream(websocket, config, settings, backend, slots, outbox, draining)
        except WebSocketDisconnect:
            await outbox.close()
            return
        except Exception as error:  # noqa: BLE001 - every ending becomes a close code in one table
            code, last_event = websocket_close(error)
        reason = "end of audio" if last_event is None else last_event["error"]["code"]  # type: ignore[index]
        await _close(websocket, outbox, last_event, code, reason, settings.stream.idle_timeout_s)
