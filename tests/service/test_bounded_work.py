"""Issue 28 against a real `asr serve` (the bundled demo model, default settings) in a subprocess on loopback:
a batch holds one file's audio, an abandoned upload stops costing CPU, short requests beside long uploads are all
answered, and a silent hour never reaches the model.

Long audio is made cheap to send: a WAV whose header says 1 Hz holds an hour in 7 KB, and the gateway resamples
it to 57.6 M samples at 16 kHz (loud noise: the model hears every window); silence compresses to nothing in FLAC.
"""

from __future__ import annotations

import io
import os
import socket
import statistics
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile

from bench.gateway_process import running_gateway
from tests.support.joined_audio import fixture_utterances

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def one_hz_wav(duration_s: int, seed: int = 0) -> bytes:
    """A WAV whose samples are read as 1 Hz: `duration_s` seconds of loud noise once resampled, in ~2 bytes a second."""
    samples = np.random.default_rng(seed).integers(-20_000, 20_000, duration_s).astype(np.int16)
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, 1, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def silent_flac(duration_s: int) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, np.zeros(duration_s * 16_000, np.int16), 16_000, format="FLAC")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory) -> Iterator[tuple[str, int]]:
    """`asr serve --port PORT` as the README runs it; gives its URL and process id."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = open(tmp_path_factory.mktemp("gateway") / "serve.log", "w")  # noqa: SIM115 - closed below
    command = [sys.executable, "-m", "cli.main", "serve", "--port", str(port)]
    try:
        with running_gateway(command, port, dict(os.environ), REPO_ROOT, ready_timeout_s=180, stop_timeout_s=30,
                             stdout=log, stderr=log) as (url, process):  # fmt: skip
            yield url, process.pid
    finally:
        log.close()


def metric(url: str, name: str) -> float:
    for line in httpx.get(url + "/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} is not in /metrics")


def wait_for_requests_in_flight(url: str, count: int, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while metric(url, "asr_queue_depth") != count:
        assert time.monotonic() < deadline, f"the gateway never had {count} requests in flight"
        time.sleep(0.1)


def cpu_s(pid: int) -> float:
    """CPU seconds the process has used (user + system), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_S


def rss_bytes(pid: int, field: str) -> int:
    """`VmRSS` (now) or `VmHWM` (peak since the last reset) of the process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(field)


def reset_peak_rss(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # proc(5): "5" resets the peak RSS (VmHWM) to the current RSS


def upload_and_keep_waiting(url: str, body: bytes) -> socket.socket:
    """POST `body` as a raw `audio/wav` body and leave the connection open; closing it is the client leaving."""
    port = int(url.rsplit(":", 1)[1])
    connection = socket.create_connection(("127.0.0.1", port))
    head = (
        "POST /v1/transcribe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: audio/wav\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    connection.sendall(head.encode() + body)
    return connection


def test_a_batch_of_four_long_files_peaks_at_the_memory_of_one(gateway):
    url, pid = gateway
    files = [silent_flac(20 * 60) for _ in range(4)]  # 20 min each: 77 MB decoded
    decoded_bytes = 20 * 60 * 16_000 * 4
    httpx.post(url + "/v1/transcribe", files={"file": ("warm.flac", files[0])}, timeout=120).raise_for_status()

    reset_peak_rss(pid)
    before = rss_bytes(pid, "VmRSS")
    httpx.post(url + "/v1/transcribe", files={"file": ("one.flac", files[0])}, timeout=120).raise_for_status()
    one_file_peak = rss_bytes(pid, "VmHWM") - before

    reset_peak_rss(pid)
    before = rss_bytes(pid, "VmRSS")
    response = httpx.post(
        url + "/v1/transcribe/batch", files=[("file", (f"{i}.flac", data)) for i, data in enumerate(files)], timeout=300
    )
    batch_peak = rss_bytes(pid, "VmHWM") - before
    assert response.status_code == 200 and len(response.json()["results"]) == 4
    # Decoding all four first (the old way) peaks at 4x one file's 77 MB.
    assert batch_peak < one_file_peak + decoded_bytes / 2, (batch_peak / 1e6, one_file_peak / 1e6)


def test_an_abandoned_hour_stops_costing_cpu_within_seconds(gateway):
    url, pid = gateway
    connection = upload_and_keep_waiting(url, one_hz_wav(3600))
    wait_for_requests_in_flight(url, 1)  # decoded, admitted: the model is working on it
    time.sleep(1.0)
    connection.close()
    wait_for_requests_in_flight(url, 0, timeout_s=5.0)
    time.sleep(1.0)  # the model call under way when the client left finishes
    start = cpu_s(pid)
    time.sleep(2.0)
    # The hour's 1,200 windows would keep both cores busy for minutes; idle, the gateway uses next to nothing.
    assert cpu_s(pid) - start < 0.3


def test_short_requests_beside_long_uploads_are_all_answered_in_a_few_model_calls(gateway):
    url, pid = gateway
    shorts = list(fixture_utterances().values())[:24]
    bodies = []
    for samples in shorts:
        buffer = io.BytesIO()
        soundfile.write(buffer, samples, 16_000, format="WAV")
        bodies.append(buffer.getvalue())
    long_uploads = [upload_and_keep_waiting(url, one_hz_wav(600, seed)) for seed in range(3)]  # 10 min each
    try:
        wait_for_requests_in_flight(url, 3)

        def short(body: bytes) -> tuple[int, float]:
            started = time.perf_counter()
            status = httpx.post(url + "/v1/transcribe", files={"file": ("s.wav", body)}, timeout=60).status_code
            return status, time.perf_counter() - started

        with ThreadPoolExecutor(4) as pool:
            outcomes = list(pool.map(short, bodies))
    finally:
        for connection in long_uploads:
            connection.close()
    assert [status for status, _ in outcomes] == [200] * len(bodies)
    p95_s = statistics.quantiles([latency for _, latency in outcomes], n=20)[-1]
    # A short request waits for the batch in the model and rides in the next: about two calls of 8 chunks.
    assert p95_s < 5.0, p95_s
    wait_for_requests_in_flight(url, 0, timeout_s=10.0)


def test_a_silent_hour_is_transcribed_in_seconds_without_a_model_call(gateway):
    url, _ = gateway
    model_calls_before = metric(url, "asr_batch_size_count")
    started = time.perf_counter()
    response = httpx.post(url + "/v1/transcribe", files={"file": ("hour.flac", silent_flac(3600))}, timeout=120)
    elapsed_s = time.perf_counter() - started
    assert response.status_code == 200
    assert response.json()["text"] == "" and response.json()["duration_s"] == 3600.0
    assert metric(url, "asr_batch_size_count") == model_calls_before
    assert elapsed_s < 60.0, elapsed_s
