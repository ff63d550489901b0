"""The issue-28 probe table: bounded, fair and cancellable work, against a real gateway.

Run: `python -m bench.probe` (~10 min on 2 cores; `--soak-requests 200` for a quicker pass). It starts `asr serve`
(the bundled demo model, default settings) in a subprocess on a free loopback port and measures, in this order:

- soak: `--soak-requests` short requests (the fixture recordings) at concurrency 4; RSS before and after;
- 200 short requests at concurrency 16: statuses, p50 / p95 latency;
- 20 concurrent OpenAI streams (`stream=true`, 30 s of speech each): how many end with `transcript.text.done`;
- short requests beside two 10-minute uploads of speech: statuses and p95, against the same requests alone;
- an abandoned hour of speech: the gateway's CPU use while it works on it, and in the 3 s after its client leaves;
- a silent hour (FLAC of digital silence): wall time, and the peak RSS it adds;
- a batch of 4 silent hours: the peak RSS it adds, against the single silent hour's;
- slowloris: 50 connections trickling a request head one byte every 2 s while 40 short requests are timed: their
  p95 against the same requests alone, and how many slow connections the gateway cut (`--only slowloris` runs
  just this row).

Each row prints its measure and, where there is one, the reference measured in the same run (the ratio column).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.gateway_probes import (
    Slowloris,
    cpu_s,
    reset_peak_rss,
    silent_flac,
    upload_and_keep_waiting,
    wait_for_requests_in_flight,
    wav_bytes,
)
from bench.gateway_process import free_port, rss_bytes, running_gateway
from bench.joined_audio import SAMPLE_RATE_HZ, fixture_utterances, join_utterances, tiled
from bench.long_audio import machine

REPO_ROOT = Path(__file__).resolve().parents[1]
MB = 1e6


@contextlib.contextmanager
def gateway() -> Iterator[tuple[str, int]]:
    """`asr serve` on a free port, default settings; gives its URL and process id."""
    port = free_port()
    env = dict(os.environ, ASR_LOG_JSON="false", TF_CPP_MIN_LOG_LEVEL="2")
    command = [sys.executable, "-m", "cli.main", "serve", "--port", str(port)]
    with running_gateway(command, port, env, REPO_ROOT, ready_timeout_s=300, stop_timeout_s=60,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as (url, process):  # fmt: skip
        yield url, process.pid


def post_short(url: str, body: bytes) -> tuple[int, float]:
    """POST one short file; return its status and latency in seconds."""
    started = time.perf_counter()
    status = httpx.post(url + "/v1/transcribe", files={"file": ("short.wav", body)}, timeout=300).status_code
    return status, time.perf_counter() - started


def run_shorts(url: str, bodies: list[bytes], count: int, concurrency: int) -> list[tuple[int, float]]:
    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(lambda i: post_short(url, bodies[i % len(bodies)]), range(count)))


def p(latencies: list[float], percent: int) -> float:
    return statistics.quantiles(latencies, n=100)[percent - 1] if len(latencies) > 1 else latencies[0]


def statuses(outcomes: list[tuple[int, float]]) -> str:
    counts: dict[int, int] = {}
    for status, _ in outcomes:
        counts[status] = counts.get(status, 0) + 1
    return ", ".join(f"{count} x {status}" for status, count in sorted(counts.items()))


def stream_events(url: str, body: bytes) -> str:
    """Run one OpenAI streamed transcription; return the type of its last event (or the HTTP status if refused)."""
    last = ""
    with httpx.stream("POST", url + "/v1/audio/transcriptions", files={"file": ("s.wav", body)},
                      data={"model": "wav2vec2", "stream": "true"}, timeout=600) as response:  # fmt: skip
        if response.status_code != 200:
            return f"HTTP {response.status_code}"
        for line in response.iter_lines():
            if line.startswith("data: "):
                event = json.loads(line[len("data: ") :])
                last = event.get("type") or event.get("error", {}).get("code", "error")
    return last


def cpu_over(pid: int, seconds: float) -> float:
    """CPU seconds the process uses over the next `seconds`, as a share of one core."""
    start = cpu_s(pid)
    time.sleep(seconds)
    return (cpu_s(pid) - start) / seconds


def peak_added_mb(pid: int, request: Callable[[], httpx.Response]) -> tuple[float, float, httpx.Response]:
    """Run `request`; return the peak RSS it added (MB), its wall time and its response."""
    reset_peak_rss(pid)
    before = rss_bytes(pid)
    started = time.perf_counter()
    response = request()
    wall_s = time.perf_counter() - started
    return (rss_bytes(pid, "VmHWM") - before) / MB, wall_s, response


def slowloris_row(url: str, shorts: list[bytes], alone_p95_s: float, duration_s: float = 30.0) -> tuple[str, str]:
    """Short requests timed while 50 connections trickle request heads; returns the row's result and reference."""
    slow = Slowloris(url, count=50, interval_s=2.0)
    started = time.perf_counter()
    beside: list[tuple[int, float]] = []
    try:
        while time.perf_counter() - started < duration_s:
            beside += run_shorts(url, shorts, 8, 2)
    finally:
        cut = slow.stop()
    beside_p95_s = p([latency for _, latency in beside], 95)
    return (
        f"{statuses(beside)}; p95 {beside_p95_s:.2f} s; {cut} of 50 slow connections cut in "
        f"{time.perf_counter() - started:.0f} s",
        f"alone p95 {alone_p95_s:.2f} s: x{beside_p95_s / alone_p95_s:.1f}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--soak-requests", type=int, default=1000)
    parser.add_argument("--only", choices=["slowloris"], help="run just this row (after the same warm-up)")
    args = parser.parse_args()

    shorts = [wav_bytes(samples, SAMPLE_RATE_HZ) for samples in fixture_utterances().values()]
    joined = join_utterances(300.0, seed=13)
    ten_minutes = wav_bytes(tiled(joined, 600.0), SAMPLE_RATE_HZ)
    half_minute = wav_bytes(tiled(joined, 30.0), SAMPLE_RATE_HZ)
    rows: list[tuple[str, str, str]] = []

    def row(probe: str, result: str, reference: str = "") -> None:
        rows.append((probe, result, reference))
        print(f"{probe}: {result}  {reference}", flush=True)

    print(machine())
    print("gateway: asr serve, embedded bundled demo model, default settings", flush=True)
    with gateway() as (url, pid):
        run_shorts(url, shorts, 8, 1)  # warm-up
        alone = run_shorts(url, shorts, 40, 2)
        alone_p95 = p([latency for _, latency in alone], 95)
        if args.only == "slowloris":
            row("50 slowloris connections (a head byte every 2 s) beside short requests (concurrency 2)",
                *slowloris_row(url, shorts, alone_p95))  # fmt: skip
            print_table(rows)
            return

        rss_before = rss_bytes(pid) / MB
        started = time.perf_counter()
        soak = run_shorts(url, shorts, args.soak_requests, 4)
        time.sleep(2.0)
        row(f"soak: {args.soak_requests} short requests, concurrency 4",
            f"{statuses(soak)} in {time.perf_counter() - started:.0f} s; RSS {rss_before:.0f} -> "
            f"{rss_bytes(pid) / MB:.0f} MB", f"x{rss_bytes(pid) / MB / rss_before:.2f} RSS")  # fmt: skip

        burst = run_shorts(url, shorts, 200, 16)
        latencies = [latency for _, latency in burst]
        row("200 short requests, concurrency 16",
            f"{statuses(burst)}; p50 {p(latencies, 50):.2f} s, p95 {p(latencies, 95):.2f} s")  # fmt: skip

        with ThreadPoolExecutor(20) as pool:
            endings = list(pool.map(lambda _: stream_events(url, half_minute), range(20)))
        row("20 concurrent SSE streams (30 s each)",
            ", ".join(f"{endings.count(e)} x {e}" for e in sorted(set(endings))))  # fmt: skip

        long_uploads = [upload_and_keep_waiting(url, ten_minutes) for _ in range(2)]
        try:
            wait_for_requests_in_flight(url, 2)
            beside = run_shorts(url, shorts, 40, 2)
        finally:
            for connection in long_uploads:
                connection.close()
        beside_p95 = p([latency for _, latency in beside], 95)
        row("40 short requests (concurrency 2) beside two 10-min uploads",
            f"{statuses(beside)}; p95 {beside_p95:.2f} s",
            f"alone p95 {alone_p95:.2f} s: x{beside_p95 / alone_p95:.1f}")  # fmt: skip
        wait_for_requests_in_flight(url, 0, timeout_s=30)

        hour = wav_bytes(tiled(joined, 3600.0), SAMPLE_RATE_HZ)
        connection = upload_and_keep_waiting(url, hour)
        del hour
        wait_for_requests_in_flight(url, 1, timeout_s=120)
        time.sleep(2.0)
        working = cpu_over(pid, 3.0)
        left = time.perf_counter()
        connection.close()
        wait_for_requests_in_flight(url, 0, timeout_s=30)
        dropped_s = time.perf_counter() - left
        after = cpu_over(pid, 3.0)
        row("abandoned 1-hour upload of speech",
            f"released {dropped_s:.2f} s after the client left; then {after:.2f} cores for 3 s",
            f"while working: {working:.2f} cores")  # fmt: skip

        silence = silent_flac(3600)
        one_mb, one_s, response = peak_added_mb(
            pid, lambda: httpx.post(url + "/v1/transcribe", files={"file": ("h.flac", silence)}, timeout=600)
        )
        row("silent hour (FLAC)", f"HTTP {response.status_code} in {one_s:.1f} s; peak RSS +{one_mb:.0f} MB",
            f"RTF {one_s / 3600:.4f}")  # fmt: skip
        files = [("file", (f"{i}.flac", silence)) for i in range(4)]
        batch_mb, batch_s, response = peak_added_mb(
            pid, lambda: httpx.post(url + "/v1/transcribe/batch", files=files, timeout=1200)
        )
        row("batch of 4 silent hours", f"HTTP {response.status_code} in {batch_s:.1f} s; peak RSS +{batch_mb:.0f} MB",
            f"x{batch_mb / one_mb:.2f} of one hour's")  # fmt: skip
        time.sleep(2.0)
        row("50 slowloris connections (a head byte every 2 s) beside short requests (concurrency 2)",
            *slowloris_row(url, shorts, alone_p95))  # fmt: skip
        end_mb = rss_bytes(pid) / MB
        row("RSS at the end", f"{end_mb:.0f} MB", f"x{end_mb / rss_before:.2f} of before the soak")
    print_table(rows)


def print_table(rows: list[tuple[str, str, str]]) -> None:
    print("\n| probe | result | reference (same run) |\n|---|---|---|")
    for probe, result, reference in rows:
        print(f"| {probe} | {result} | {reference} |")


if __name__ == "__main__":
    main()
