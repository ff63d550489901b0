"""`asr wyoming` with the `wyoming` package's own client, the way Home Assistant talks to it, on the demo model."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
import soundfile
from fastapi.testclient import TestClient
from wyoming.asr import Transcribe, Transcript, TranscriptChunk, TranscriptStop
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe, Info

from service import Settings, create_app
from service.wyoming import serve_wyoming

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SENTENCE = FIXTURES / "festival" / "eval_festival-festival-007906.wav"  # 16 kHz
DIGIT = FIXTURES / "fsdd" / "7_jackson_0.wav"  # 8 kHz: resampled chunk by chunk
SETTINGS = Settings(model_name="demo", language="english")


@pytest.fixture(scope="module")
def http_transcripts() -> dict[Path, str]:
    """The gateway's offline transcript of each file (same model, same default decoder)."""
    with TestClient(create_app(SETTINGS)) as client:
        return {
            path: client.post("/v1/transcribe", files={"file": (path.name, path.read_bytes())}).json()["text"]
            for path in (SENTENCE, DIGIT)
        }


@contextlib.asynccontextmanager
async def wyoming_server() -> AsyncIterator[int]:
    """Run `serve_wyoming` on a free loopback port; yields the port once it answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = asyncio.create_task(serve_wyoming(SETTINGS, f"tcp://127.0.0.1:{port}"))
    try:
        for _ in range(1200):
            if server.done():
                server.result()
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            await asyncio.sleep(0.1)
        yield port
    finally:
        server.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await server


async def transcribe_like_home_assistant(
    port: int, audio: bytes, rate: int, width: int = 2, channels: int = 1
) -> tuple[str, list[str], list[str]]:
    """Send `audio` as Home Assistant's Wyoming STT does: transcribe, audio-start, 1024-frame chunks, audio-stop.

    Returns the transcript's text, the transcript-chunk texts, and the types of the events received.
    """
    chunk_bytes = 1024 * width * channels
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Transcribe(language="en").event())
        await client.write_event(AudioStart(rate=rate, width=width, channels=channels).event())
        for start in range(0, len(audio), chunk_bytes):
            chunk = AudioChunk(rate=rate, width=width, channels=channels, audio=audio[start : start + chunk_bytes])
            await client.write_event(chunk.event())
        await client.write_event(AudioStop().event())
        text, chunks, types = None, [], []
        while True:
            event = await asyncio.wait_for(client.read_event(), 60)
            assert event is not None, "the server hung up before transcript-stop"
            types.append(event.type)
            if TranscriptChunk.is_type(event.type):
                chunks.append(TranscriptChunk.from_event(event).text)
            elif Transcript.is_type(event.type):
                text = Transcript.from_event(event).text
            elif TranscriptStop.is_type(event.type):
                return text, chunks, types


def test_home_assistant_gets_info_and_the_same_transcript_as_http(http_transcripts: dict[Path, str]) -> None:
    async def scenario() -> None:
        async with wyoming_server() as port:
            async with AsyncTcpClient("127.0.0.1", port) as client:
                await client.write_event(Describe().event())
                info = Info.from_event(await asyncio.wait_for(client.read_event(), 10))
            (program,) = info.asr
            assert program.supports_transcript_streaming
            assert [(model.name, model.languages) for model in program.models] == [("demo", ["en"])]

            for path in (SENTENCE, DIGIT):
                samples, rate = soundfile.read(path, dtype="int16")
                text, chunks, types = await transcribe_like_home_assistant(port, samples.tobytes(), rate)
                assert text and text == http_transcripts[path], path.name
                assert "".join(chunks) == text
                assert types[0] == "transcript-start" and types[-2:] == ["transcript", "transcript-stop"]

            # 32-bit stereo, each channel half the signal: converted to 16-bit mono it is the file again.
            samples, rate = soundfile.read(DIGIT, dtype="int16")
            half = (samples.astype(np.int32) << 16) // 2
            stereo = np.stack([half, half], axis=1).astype("<i4").tobytes()
            text, _, _ = await transcribe_like_home_assistant(port, stereo, rate, width=4, channels=2)
            assert text == http_transcripts[DIGIT]

            # audio-stop with no audio: an empty transcript, as wyoming-faster-whisper answers.
            text, chunks, _ = await transcribe_like_home_assistant(port, b"", 16_000)
            assert text == "" and chunks == []

    asyncio.run(scenario())
