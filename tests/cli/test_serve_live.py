"""A real `asr serve` process (one per module, it takes seconds to start): its protocol limits, then SIGTERM.

Oversized request heads are refused 431 while health checks go on. SIGTERM with a stream and an upload in flight:
the stream gets the finals of the audio it sent and closes 1001 (`server_shutting_down`); the upload, still
trickling in, gets a 503 in the error shape; the process exits within ASR_SHUTDOWN_TIMEOUT_S.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import websockets

from bench.gateway_process import free_port
from tests.service.gateway_fixtures import encode, speechlike

SHUTDOWN_TIMEOUT_S = 5.0
REQUEST_HEAD_TIMEOUT_S = 2.0
UPLOAD_BYTES = 1_000_000


def _wait_until_ready(url: str, process: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, f"asr serve exited with {process.returncode}"
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("asr serve did not become ready")


async def _stream(port: int, sigterm_sent: asyncio.Event) -> tuple[list[dict], int | None, float]:
    """Stream audio at real time until the server closes; return the events, the close code, the audio sent (s)."""
    pcm = (speechlike(30.0, 16_000, seed=5) * 32767).astype("<i2")
    frame = 1600  # 0.1 s
    events: list[dict] = []
    sent_s = 0.0
    async with websockets.connect(f"ws://127.0.0.1:{port}/v1/stream", ping_interval=None) as ws:
        await ws.send(json.dumps({"type": "config", "sample_rate_hz": 16_000}))

        async def receive() -> None:
            async for message in ws:
                events.append(json.loads(message))

        receiver = asyncio.create_task(receive())
        for start in range(0, len(pcm), frame):
            try:
                await ws.send(pcm[start : start + frame].tobytes())
            except websockets.ConnectionClosed:
                break
            sent_s += 0.1
            if sent_s >= 2.0:
                sigterm_sent.set()
            await asyncio.sleep(0.1)
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(receiver, 10)
            await ws.recv()
        return events, ws.close_code, sent_s


async def _trickling_upload(port: int) -> bytes:
    """POST an upload 200 bytes at a time; return what the server answered before it closed the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST /v1/transcribe HTTP/1.1\r\nHost: test\r\nContent-Type: audio/wav\r\n"
        f"Content-Length: {UPLOAD_BYTES}\r\n\r\n".encode()
    )
    reading = asyncio.create_task(reader.read())
    give_up_at = time.monotonic() + SHUTDOWN_TIMEOUT_S + 10  # bounded, answered or not
    while not reading.done() and time.monotonic() < give_up_at:
        try:
            writer.write(bytes(200))
            await writer.drain()
        except ConnectionError:
            break
        await asyncio.wait({reading}, timeout=0.2)
    writer.close()
    try:
        return await asyncio.wait_for(reading, 5)
    except TimeoutError:
        return b"no answer"


@pytest.fixture(scope="module")
def served(model_base_path, tmp_path_factory) -> Iterator[tuple[subprocess.Popen, int, Path]]:
    """`asr serve` as the README runs it, on a free port; the SIGTERM test ends it, else the teardown does."""
    port, log_path = free_port(), tmp_path_factory.mktemp("serve") / "serve.log"
    command = [sys.executable, "-m", "cli.main", "serve", "--model", str(model_base_path), "--no-lm",
               "--port", str(port)]  # fmt: skip
    env = {**os.environ, "ASR_HOST": "127.0.0.1", "ASR_SHUTDOWN_TIMEOUT_S": str(SHUTDOWN_TIMEOUT_S),
           "ASR_REQUEST_HEAD_TIMEOUT_S": str(REQUEST_HEAD_TIMEOUT_S)}  # fmt: skip
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_until_ready(f"http://127.0.0.1:{port}", process)
        yield process, port, log_path
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _send_huge_head(port: int, head_bytes: int) -> bytes:
    """Send a GET whose one header holds `head_bytes`, as far as the server lets it; return its answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Filler: ")
        chunk = b"a" * 65536
        try:
            for _ in range(head_bytes // len(chunk)):
                connection.sendall(chunk)
        except ConnectionError:
            pass  # the server answered and closed: the answer is still in our receive buffer
        answer = b""
        with contextlib.suppress(ConnectionError):
            while data := connection.recv(65536):
                answer += data
    return answer


@pytest.mark.slow
def test_a_64_mib_request_head_gets_431_and_health_checks_carry_on(served):
    _, port, _ = served
    answers: list[bytes] = []
    sender = threading.Thread(target=lambda: answers.append(_send_huge_head(port, 64 * 1024 * 1024)))
    sender.start()
    health_s = []
    for _ in range(5):
        started = time.monotonic()
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
        health_s.append(time.monotonic() - started)
    sender.join(timeout=30)
    (answer,) = answers
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"), answer[:200]
    assert b'"request_header_too_large"' in answer
    assert max(health_s) < 1.0, health_s
    # A head near the cap followed by a body, in the same packets, is still a request (the body is not counted).
    near_cap = {"X-Filler": "a" * 30_000, "Content-Type": "audio/wav"}
    response = httpx.post(f"http://127.0.0.1:{port}/v1/transcribe", content=bytes(1_000_000), headers=near_cap)
    assert response.json()["error"]["code"] == "unsupported_media_type"


def _trickle_head(port: int, byte_interval_s: float, give_up_s: float) -> tuple[bytes, float]:
    """Send a request head one byte every `byte_interval_s` (slowloris); return the answer and when it came."""
    head = b"POST /v1/transcribe HTTP/1.1\r\nHost: test\r\nContent-Type: audio/wav\r\nX-Filler: " + b"a" * 1000
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=give_up_s) as connection:
        connection.setblocking(False)
        for byte in head:
            if time.monotonic() - started > give_up_s:
                break
            with contextlib.suppress(BlockingIOError):
                if (answer := connection.recv(65536)) or answer == b"":
                    return answer, time.monotonic() - started
            try:
                connection.sendall(bytes([byte]))
            except ConnectionError:
                break
            time.sleep(byte_interval_s)
        connection.settimeout(5.0)
        with contextlib.suppress(OSError):
            return connection.recv(65536), time.monotonic() - started
    return b"no answer", time.monotonic() - started


@pytest.mark.slow
def test_slowloris_heads_get_408_after_the_head_timeout_and_do_not_hold_up_others(served):
    _, port, _ = served
    with ThreadPoolExecutor(20) as pool:
        slow = [pool.submit(_trickle_head, port, 0.5, REQUEST_HEAD_TIMEOUT_S + 5) for _ in range(20)]
        health_s = []
        for _ in range(5):
            started = time.monotonic()
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
            health_s.append(time.monotonic() - started)
        answers = [future.result() for future in slow]
    for answer, after_s in answers:
        assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer[:200]
        assert b'"request_header_timeout"' in answer
        assert REQUEST_HEAD_TIMEOUT_S - 0.5 < after_s < REQUEST_HEAD_TIMEOUT_S + 2, after_s
    assert max(health_s) < 1.0, health_s
    # A request whose head is in is not timed: an upload that takes longer than the head timeout is answered.
    response = httpx.post(
        f"http://127.0.0.1:{port}/v1/transcribe", content=_slow_body(REQUEST_HEAD_TIMEOUT_S + 1),
        headers={"Content-Type": "audio/wav"}, timeout=30,
    )  # fmt: skip
    assert response.status_code == 200, response.text


def _slow_body(duration_s: float) -> Iterator[bytes]:
    """A 1 s WAV of speech-like audio whose body arrives over `duration_s`."""
    wav = encode(speechlike(1.0, 16_000, seed=3), 16_000)
    pieces = 10
    for index in range(pieces):
        yield wav[index * len(wav) // pieces : (index + 1) * len(wav) // pieces]
        time.sleep(duration_s / pieces)


@pytest.mark.slow
def test_sigterm_flushes_streams_answers_uploads_and_exits_within_the_timeout(served):
    process, port, log_path = served
    try:

        async def scenario() -> tuple[tuple[list[dict], int | None, float], bytes, float]:
            sigterm_sent = asyncio.Event()
            stream = asyncio.create_task(_stream(port, sigterm_sent))
            upload = asyncio.create_task(_trickling_upload(port))
            await sigterm_sent.wait()
            await asyncio.sleep(0.5)  # the last frames before the signal reach the server
            process.send_signal(signal.SIGTERM)
            signalled_at = time.monotonic()
            return await stream, await upload, signalled_at

        (events, close_code, sent_s), answer, signalled_at = asyncio.run(scenario())
        process.wait(timeout=SHUTDOWN_TIMEOUT_S + 10)
        exit_s = time.monotonic() - signalled_at
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    log_text = log_path.read_text()
    assert exit_s < SHUTDOWN_TIMEOUT_S + 2, log_text
    # uvicorn re-raises the signal once it has shut down, so the exit status says SIGTERM ended it.
    assert process.returncode in (0, -signal.SIGTERM), log_text

    assert close_code == 1001
    assert events[-1]["error"]["code"] == "server_shutting_down"
    finals = [event for event in events if event["type"] == "final"]
    assert finals, "the audio heard before the signal is decoded and delivered"
    assert sent_s < 10  # the stream ended at the signal, not at its 30 s of audio
    assert max(word["end_s"] for final in finals for word in final["words"]) > 1.5  # up to the signal

    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 503 Service Unavailable", answer[:300]
    assert b'"server_shutting_down"' in rest
    assert "Traceback" not in log_text
