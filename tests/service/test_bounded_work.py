"""Issue 28 against a real `asr serve` (the bundled demo model, default settings) in a subprocess on loopback:
a batch holds one file's audio, an abandoned upload stops costing CPU, short requests beside long uploads are all
answered, and a silent hour never reaches the model.

Long audio is cheap to send (bench/gateway_probes.py): an hour of loud noise is a 7 KB WAV that says 1 Hz,
an hour of silence a 180 KB FLAC. bench/probe.py measures the same things at the issue's sizes.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from bench.gateway_probes import (
    cpu_s,
    metric,
    one_hz_wav,
    reset_peak_rss,
    silent_flac,
    upload_and_keep_waiting,
    wait_for_requests_in_flight,
    wav_bytes,
)
from bench.gateway_process import free_port, rss_bytes, running_gateway
from bench.joined_audio import fixture_utterances
from bench.live_server import serve
from service import create_app

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory) -> Iterator[tuple[str, int]]:
    """`asr serve --port PORT` as the README runs it; gives its URL and process id."""
    port = free_port()
    log = open(tmp_path_factory.mktemp("gateway") / "serve.log", "w")  # noqa: SIM115 - closed below
    command = [sys.executable, "-m", "cli.main", "serve", "--port", str(port)]
    try:
        with running_gateway(command, port, dict(os.environ), REPO_ROOT, ready_timeout_s=180, stop_timeout_s=30,
                             stdout=log, stderr=log) as (url, process):  # fmt: skip
            yield url, process.pid
    finally:
        log.close()


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
    bodies = [wav_bytes(samples, 16_000) for samples in shorts]
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
    # A short request waits for the batch in the model and rides in the next: about two calls of 8 chunks, 1-4 s on an
    # idle 2-core machine and up to ~8 s when the suite's other workers load it. Served first-come, the short ones
    # would queue behind the uploads' 360 chunks (tens of seconds); the bound is loose so that only that fails it.
    assert p95_s < 15.0, p95_s
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


def test_a_full_gateway_refuses_whole_requests_before_their_work_and_streams_before_their_200(make_settings):
    # One request in flight fills a gateway of ASR_QUEUE_MAX_SIZE=1: the next is refused, a stream included, with
    # the 503 and Retry-After a client can act on (the stream used to answer 200 and then an error event).
    settings = make_settings(queue_max_size=1, max_duration_h=3.0, max_upload_bytes=10_000_000)
    short = wav_bytes(next(iter(fixture_utterances().values())), 16_000)
    with serve(create_app(settings)) as url:
        busy = upload_and_keep_waiting(url, one_hz_wav(3 * 3600))
        try:
            wait_for_requests_in_flight(url, 1)
            plain = httpx.post(url + "/v1/transcribe", files={"file": ("s.wav", short)}, timeout=60)
            with httpx.stream("POST", url + "/v1/audio/transcriptions", files={"file": ("s.wav", short)},
                              data={"model": settings.model.name, "stream": "true"}, timeout=60) as stream:  # fmt: skip
                stream.read()
        finally:
            busy.close()
        wait_for_requests_in_flight(url, 0, timeout_s=10.0)
        after = httpx.post(url + "/v1/transcribe", files={"file": ("s.wav", short)}, timeout=60)
    assert (plain.status_code, plain.json()["error"]["code"], plain.headers["retry-after"]) == (503, "queue_full", "1")
    assert stream.status_code == 503 and stream.headers["content-type"].startswith("application/json")
    assert stream.json()["error"]["code"] == "queue_full"
    assert after.status_code == 200
