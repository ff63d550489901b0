"""Talking to a Wyoming server from tests: the `wyoming` package's own client, as Home Assistant uses it, and raw
bytes for what no well-behaved client sends."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from functools import partial

from wyoming.asr import Transcribe, Transcript, TranscriptChunk, TranscriptStop
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.event import Event, async_read_event

from bench.gateway_process import free_port
from service import Settings
from service.wyoming import serve_wyoming


async def wait_until_listening(port: int, host: str = "127.0.0.1", server: asyncio.Task | None = None) -> None:
    """Return once `host:port` accepts a connection (raise the server task's error if it ended first)."""
    for _ in range(1200):
        if server is not None and server.done():
            server.result()
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection(host, port)
            writer.close()
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"nothing listens on {host}:{port}")


@contextlib.asynccontextmanager
async def wyoming_server(settings: Settings, host: str = "127.0.0.1") -> AsyncIterator[int]:
    """Run `serve_wyoming` in this event loop on a free port of `host`; yields the port once it answers."""
    port = free_port()
    server = asyncio.create_task(serve_wyoming(settings, f"tcp://{host}:{port}"))
    try:
        await wait_until_listening(port, "127.0.0.1", server)
        yield port
    finally:
        server.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await server


async def transcribe_like_home_assistant(
    port: int, audio: bytes, rate: int, width: int = 2, channels: int = 1, model: str | None = None
) -> tuple[str, list[str], list[str]]:
    """Send `audio` as Home Assistant's Wyoming STT does: transcribe, audio-start, 1024-frame chunks, audio-stop.

    Returns the transcript's text, the transcript-chunk texts, and the types of the events received.
    """
    chunk_bytes = 1024 * width * channels
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Transcribe(name=model, language="en").event())
        await client.write_event(AudioStart(rate=rate, width=width, channels=channels).event())
        for start in range(0, len(audio), chunk_bytes):
            chunk = AudioChunk(rate=rate, width=width, channels=channels, audio=audio[start : start + chunk_bytes])
            await client.write_event(chunk.event())
        await client.write_event(AudioStop().event())
        text, chunks, types = None, [], []
        while True:
            event = await asyncio.wait_for(client.read_event(), 60)
            assert event is not None, f"the server hung up before transcript-stop (events: {types})"
            types.append(event.type)
            if TranscriptChunk.is_type(event.type):
                chunks.append(TranscriptChunk.from_event(event).text)
            elif Transcript.is_type(event.type):
                text = Transcript.from_event(event).text
            elif TranscriptStop.is_type(event.type):
                return text, chunks, types


async def read_until_closed(source: asyncio.StreamReader | AsyncTcpClient, timeout_s: float = 10.0) -> list[Event]:
    """Return every event the server sends until it closes the connection (a reset counts as closing)."""
    read_event = source.read_event if isinstance(source, AsyncTcpClient) else partial(async_read_event, source)
    events: list[Event] = []
    with contextlib.suppress(ConnectionError):
        while (event := await asyncio.wait_for(read_event(), timeout_s)) is not None:
            events.append(event)
    return events


async def send_raw(port: int, data: bytes, timeout_s: float = 10.0) -> list[Event]:
    """Send `data` as it is on a new connection; return the events received until the server closes it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        with contextlib.suppress(ConnectionError):
            writer.write(data)
            await writer.drain()
        return await read_until_closed(reader, timeout_s)
    finally:
        writer.close()
