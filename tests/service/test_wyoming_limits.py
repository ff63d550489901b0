"""`asr wyoming`'s limits, against a real `asr wyoming` process on loopback: every bad or oversized event gets an
`error` event and a closed connection, memory stays bounded, other connections keep being served.

The server runs with the defaults except a short idle timeout and duration cap (their environment variables, as
docs/streaming.md names them), so the tests need not wait 15 s or send an hour of audio.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import soundfile
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe, Info

from cli.main import build_parser
from service import Settings
from service.config import BUNDLED_MODEL_PATH
from tests.service.wyoming_client import (
    free_port,
    read_until_closed,
    send_raw,
    transcribe_like_home_assistant,
    wait_until_listening,
    wyoming_server,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DIGIT = FIXTURES / "fsdd" / "7_jackson_0.wav"  # 8 kHz
IDLE_TIMEOUT_S = 3.0
MAX_DURATION_S = 20.0
DEFAULTS = Settings()
MiB = 1024 * 1024


class WyomingProcess:
    """`asr wyoming` in a subprocess: its port, its resident memory, and what it logged."""

    def __init__(self, process: subprocess.Popen, port: int, log_path: Path) -> None:
        self.process, self.port, self.log_path = process, port, log_path

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def log(self) -> str:
        return self.log_path.read_text()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WyomingProcess]:
    port = free_port()
    log_path = tmp_path_factory.mktemp("wyoming") / "stderr.log"
    env = {
        **os.environ,
        "ASR_STREAM_IDLE_TIMEOUT_S": str(IDLE_TIMEOUT_S),
        "ASR_STREAM_MAX_DURATION_S": str(MAX_DURATION_S),
        "ASR_LOG_JSON": "false",
    }
    with log_path.open("w") as log:
        process = subprocess.Popen(
            ["asr", "wyoming", "--uri", f"tcp://127.0.0.1:{port}", "--model-name", "demo"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        asyncio.run(wait_until_listening(port))
        yield WyomingProcess(process, port, log_path)
    finally:
        process.terminate()
        try:
            exit_code = process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
    assert exit_code == 0, "SIGTERM stops asr wyoming cleanly"


@pytest.fixture(scope="module")
def digit_text(server: WyomingProcess) -> str:
    """The server's transcript of the 8 kHz digit, sent as Home Assistant sends it."""
    samples, rate = soundfile.read(DIGIT, dtype="int16")
    text, _, _ = asyncio.run(transcribe_like_home_assistant(server.port, samples.tobytes(), rate))
    assert text
    return text


def header(event_type: str, data: dict | None = None, payload_length: int | None = None) -> bytes:
    """Return a Wyoming header line as the `wyoming` package writes it, `payload_length` as given."""
    line: dict[str, object] = {"type": event_type, "version": "1.10.2"}
    if data is not None:
        line["data"] = data
    if payload_length is not None:
        line["payload_length"] = payload_length
    return json.dumps(line).encode() + b"\n"


def chunk(data: dict, payload: bytes) -> bytes:
    """Return an `audio-chunk` event's bytes with `data` as it is (no validation on this side)."""
    return header("audio-chunk", data, payload_length=len(payload)) + payload


def the_error(events: list[Event]) -> Error:
    """Return the one `error` event the server sent before closing."""
    assert [event.type for event in events] == ["error"], events
    return Error.from_event(events[0])


async def describe_latency_s(port: int) -> float:
    """Return how long a `describe` takes to come back as `info` on a new connection."""
    started = time.perf_counter()
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Describe().event())
        assert Info.is_type((await asyncio.wait_for(client.read_event(), 30)).type)
    return time.perf_counter() - started


def test_asr_wyoming_listens_on_loopback_unless_told_otherwise() -> None:
    assert build_parser().parse_args(["wyoming"]).uri == "tcp://127.0.0.1:10300"


def test_listening_beyond_loopback_logs_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        settings = Settings(model_path=BUNDLED_MODEL_PATH, model_name="demo")
        async with wyoming_server(settings, host="0.0.0.0"):
            pass

    with caplog.at_level(logging.WARNING, logger="service.wyoming"):
        asyncio.run(scenario())
    (warning,) = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert "0.0.0.0" in warning.getMessage() and "no authentication" in warning.getMessage()


def test_a_1_hz_chunk_is_refused_without_memory_growth_or_stalling_others(server, digit_text: str) -> None:
    async def scenario() -> tuple[list[Event], float, str]:
        attack = chunk({"rate": 1, "width": 2, "channels": 1}, bytes(32 * 1024))
        attacking = asyncio.create_task(send_raw(server.port, attack))
        latencies_s = []  # other connections' describe, while the attack is served
        while not attacking.done() or len(latencies_s) < 3:
            latencies_s.append(await describe_latency_s(server.port))
        samples, rate = soundfile.read(DIGIT, dtype="int16")
        text, _, _ = await transcribe_like_home_assistant(server.port, samples.tobytes(), rate)
        return await attacking, max(latencies_s), text

    rss_before_mb = server.rss_mb()
    events, latency_s, text = asyncio.run(scenario())
    error = the_error(events)
    assert error.code == "invalid_audio_format" and "8000" in error.text, error
    assert latency_s < 2.0  # the event loop was blocked for seconds before the fix
    assert text == digit_text
    assert server.rss_mb() - rss_before_mb < 100


def test_a_2_gb_payload_is_refused_from_its_header(server) -> None:
    async def scenario() -> tuple[list[Event], int]:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        sent_bytes = 0
        writer.write(header("audio-chunk", {"rate": 16000, "width": 2, "channels": 1}, payload_length=2 * 1024**3))

        async def flood() -> None:
            nonlocal sent_bytes
            block = bytes(MiB)
            while sent_bytes < 300 * MiB:
                writer.write(block)
                await writer.drain()
                sent_bytes += len(block)

        flooding = asyncio.create_task(flood())
        events = await read_until_closed(reader)
        await asyncio.wait_for(asyncio.gather(flooding, return_exceptions=True), 10)
        writer.close()
        return events, sent_bytes

    rss_before_mb = server.rss_mb()
    events, sent_bytes = asyncio.run(scenario())
    error = the_error(events)
    assert error.code == "event_too_large" and str(DEFAULTS.wyoming.max_payload_bytes) in error.text, error
    assert sent_bytes < 32 * MiB  # what the sockets' buffers hold: the server read none of it into memory
    assert server.rss_mb() - rss_before_mb < 50


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"not json\n", "invalid_event"),
        (b"[1, 2]\n", "invalid_event"),
        (b"[" * 60_000 + b"\n", "invalid_event"),
        (b'{"data": {}}\n', "invalid_event"),
        (b'{"type": "describe", "payload_length": "many"}\n', "invalid_event"),
        (b'{"type": "describe", "data_length": -5}\n', "invalid_event"),
        (b'{"type": "describe", "data_length": 4}\n[1]\n', "invalid_event"),
        (b'{"type": "describe", "data_length": 1000000000}\n', "event_too_large"),
        (b'{"type": "describe", "data": {"x": "' + b"a" * 100_000 + b'"}}\n', "event_too_large"),
        (chunk({"width": 2, "channels": 1}, bytes(2)), "invalid_audio_format"),
        (header("audio-chunk", {"rate": "fast", "width": 2, "channels": 1}), "invalid_audio_format"),
        (header("audio-chunk", {"rate": 16000, "width": 7, "channels": 1}), "invalid_audio_format"),
        (header("audio-chunk", {"rate": 16000, "width": 2, "channels": 0}), "invalid_audio_format"),
        (header("audio-chunk", {"rate": 192001, "width": 2, "channels": 1}), "invalid_audio_format"),
        (header("audio-start", {"rate": 4000, "width": 2, "channels": 1}), "invalid_audio_format"),
        (chunk({"rate": 16000, "width": 2, "channels": 2}, bytes(3)), "invalid_audio_format"),
    ],
    ids=[
        "not-json",
        "not-an-object",
        "nested-60000-deep",
        "no-type",
        "payload-length-not-a-number",
        "negative-data-length",
        "data-not-an-object",
        "huge-data-length",
        "header-line-too-long",
        "chunk-without-rate",
        "rate-not-a-number",
        "width-7",
        "no-channels",
        "rate-above-192-khz",
        "start-at-4-khz",
        "partial-frame",
    ],
)  # fmt: skip
def test_a_malformed_event_gets_an_error_event_then_the_connection_closes(server, data: bytes, code: str) -> None:
    error = the_error(asyncio.run(send_raw(server.port, data)))
    assert error.code == code and error.text, error
    log = server.log()
    assert "Traceback" not in log and "never retrieved" not in log, log


def test_connections_are_capped_and_idle_ones_closed(server) -> None:
    async def hold_a_slot() -> AsyncTcpClient:
        client = AsyncTcpClient("127.0.0.1", server.port)
        await client.connect()
        await client.write_event(Describe().event())
        assert Info.is_type((await asyncio.wait_for(client.read_event(), 10)).type)
        return client

    async def scenario() -> None:
        started = time.monotonic()
        clients = await asyncio.gather(*(hold_a_slot() for _ in range(DEFAULTS.stream.max_streams)))
        assert the_error(await send_raw(server.port, b"")).code == "too_many_streams"

        for client in clients:  # each now says nothing: closed after the idle timeout
            assert the_error(await read_until_closed(client, 10)).code == "stream_idle_timeout"
            await client.disconnect()
        assert IDLE_TIMEOUT_S <= time.monotonic() - started < IDLE_TIMEOUT_S + 5
        assert await describe_latency_s(server.port) < 5  # the slots are free again

    asyncio.run(scenario())


def test_a_transcription_longer_than_the_duration_cap_ends_with_an_error(server) -> None:
    async def scenario() -> list[Event]:
        rate, chunk_s = 16_000, 1.0
        async with AsyncTcpClient("127.0.0.1", server.port) as client:
            await client.write_event(AudioStart(rate=rate, width=2, channels=1).event())
            silence = bytes(int(rate * chunk_s) * 2)
            for _ in range(int(MAX_DURATION_S / chunk_s) + 1):
                await client.write_event(AudioChunk(rate=rate, width=2, channels=1, audio=silence).event())
            await client.write_event(AudioStop().event())
            return [event for event in await read_until_closed(client, 30) if event.type == "error"]

    error = the_error(asyncio.run(scenario()))
    assert error.code == "stream_too_long" and f"{MAX_DURATION_S:g} s" in error.text


def test_a_chunk_at_the_payload_cap_is_transcribed_and_one_byte_more_is_refused(server) -> None:
    cap = DEFAULTS.wyoming.max_payload_bytes  # 16 s of 16 kHz 16-bit mono

    async def send(num_bytes: int) -> list[Event]:
        async with AsyncTcpClient("127.0.0.1", server.port) as client:
            await client.write_event(AudioStart(rate=16_000, width=2, channels=1).event())
            await client.write_event(AudioChunk(rate=16_000, width=2, channels=1, audio=bytes(num_bytes)).event())
            await client.write_event(AudioStop().event())
            events = []
            while (event := await asyncio.wait_for(client.read_event(), 60)) is not None:
                events.append(event)
                if event.type in ("transcript-stop", "error"):
                    return events
            return events

    assert [event.type for event in asyncio.run(send(cap))][-2:] == ["transcript", "transcript-stop"]
    error = the_error(asyncio.run(send(cap + 2)))
    assert error.code == "event_too_large" and f"payload_length {cap + 2}" in error.text
