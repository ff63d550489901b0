"""Load test of the HTTP gateway: p50/p95 latency and audio-seconds per second at concurrency 1, 4, 16.

By default it starts two gateways itself over the same SavedModel (micro-batching on, and off with
`ASR_BATCH_MAX_SIZE=1`), drives each with httpx, and prints the ratio of their throughputs. It also
times the bare model call in this process (the reference the gateway's overhead is measured against).
With `--url` it only measures an already running `asr serve`.

    python -m bench.load --model exports/wav2vec2            # both configurations, self-started
    python -m bench.load --url http://127.0.0.1:8000         # a running gateway
    python -m bench.load --random-model small                 # export a random model first
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import soundfile

from bench.gateway_process import running_gateway

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_RATE_HZ = 16_000
CONCURRENCIES = (1, 4, 16)

# Random-weight models of two sizes, for machines without a trained export (the transcripts are noise;
# the compute per second of audio is what matters here).
RANDOM_MODELS = {
    "tiny": dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                 conv_dim=(16, 16, 16), conv_kernel=(10, 3, 3), conv_stride=(5, 2, 2),
                 num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2),
    "small": dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024,
                  conv_dim=(128,) * 7, num_conv_pos_embeddings=64, num_conv_pos_embedding_groups=8),
}  # fmt: skip


def clip_bytes(duration_s: float, seed: int) -> tuple[bytes, np.ndarray]:
    """Returns a 16 kHz WAV of noise-modulated tones and its samples."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration_s * SAMPLE_RATE_HZ)) / SAMPLE_RATE_HZ
    samples = 0.3 * np.sin(2 * np.pi * rng.uniform(100, 300) * t) + 0.02 * rng.standard_normal(len(t))
    samples = samples.astype(np.float32)
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, SAMPLE_RATE_HZ, format="WAV", subtype="PCM_16")
    return buffer.getvalue(), soundfile.read(io.BytesIO(buffer.getvalue()), dtype="float32")[0]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


async def drive(url: str, wav: bytes, duration_s: float, concurrency: int, num_requests: int) -> dict:
    """Sends `num_requests` uploads with `concurrency` in flight; returns latency percentiles and throughput."""
    latencies_s: list[float] = []
    todo = iter(range(num_requests))

    async def worker(http: httpx.AsyncClient) -> None:
        for _ in todo:
            started = time.perf_counter()
            response = await http.post("/v1/transcribe", files={"file": ("clip.wav", wav)})
            response.raise_for_status()
            latencies_s.append(time.perf_counter() - started)

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
        await http.post("/v1/transcribe", files={"file": ("clip.wav", wav)})  # warm connection and model
        started = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        wall_s = time.perf_counter() - started
    return {
        "p50_ms": percentile(latencies_s, 50) * 1000,
        "p95_ms": percentile(latencies_s, 95) * 1000,
        "audio_s_per_s": num_requests * duration_s / wall_s,
    }


def bare_model_ms(model_path: Path, samples: np.ndarray, repeats: int) -> float:
    """Returns the median time of one in-process model call on `samples` (the gateway-free reference)."""
    from model_export.client import SavedModelClient

    client = SavedModelClient(model_path)
    client.logits_batch([samples])
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        client.logits_batch([samples])
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


@contextlib.contextmanager
def gateway(model_path: Path, port: int, batch_max_size: int, batch_max_wait_ms: float) -> Iterator[str]:
    """Runs `uvicorn service.main:create_app` in a subprocess configured by ASR_* variables; yields its URL."""
    env = dict(
        os.environ,
        ASR_MODEL_PATH=str(model_path),
        ASR_BATCH_MAX_SIZE=str(batch_max_size),
        ASR_BATCH_MAX_WAIT_MS=str(batch_max_wait_ms),
        ASR_QUEUE_MAX_SIZE="256",
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    command = [sys.executable, "-m", "uvicorn", "--factory", "service.main:create_app",
               "--port", str(port), "--log-level", "warning"]  # fmt: skip
    with running_gateway(command, port, env, REPO_ROOT, ready_timeout_s=180, stop_timeout_s=30) as (url, _):
        yield url


def export_random_model(size: str, out_dir: Path) -> Path:
    import tensorflow as tf

    from model_export.export import export_saved_model
    from wav2vec2.config import Wav2Vec2Config
    from wav2vec2.model import Wav2Vec2ForCTC
    from wav2vec2.processor import Wav2Vec2Processor

    tf.keras.utils.set_random_seed(0)
    model = Wav2Vec2ForCTC(Wav2Vec2Config(**RANDOM_MODELS[size]))
    return export_saved_model(model, Wav2Vec2Processor(), out_dir, f"random-{size}", 1).parent


def measure(url: str, wav: bytes, duration_s: float, requests_per_worker: int) -> dict[int, dict]:
    return {
        concurrency: asyncio.run(drive(url, wav, duration_s, concurrency, max(8, concurrency * requests_per_worker)))
        for concurrency in CONCURRENCIES
    }


def print_table(title: str, rows: dict[int, dict]) -> None:
    print(f"\n{title}")
    print(f"{'concurrency':>11} {'p50 ms':>9} {'p95 ms':>9} {'audio s/s':>10}")
    for concurrency, row in rows.items():
        print(f"{concurrency:>11} {row['p50_ms']:>9.1f} {row['p95_ms']:>9.1f} {row['audio_s_per_s']:>10.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", type=Path, help="SavedModel dir to serve (NAME/ or NAME/VERSION/)")
    source.add_argument("--random-model", choices=sorted(RANDOM_MODELS), help="export a random model first")
    source.add_argument("--url", help="measure this running gateway only")
    parser.add_argument("--clip-s", type=float, default=3.0, help="audio per request (default 3 s)")
    parser.add_argument("--requests-per-worker", type=int, default=4)
    parser.add_argument("--batch-max-size", type=int, default=16)
    parser.add_argument("--batch-max-wait-ms", type=float, default=5.0)
    parser.add_argument("--port", type=int, default=8790)
    args = parser.parse_args(argv)

    wav, samples = clip_bytes(args.clip_s, seed=0)
    print(f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}; clip {args.clip_s:g} s")  # fmt: skip
    if args.url:
        print_table(f"gateway at {args.url}", measure(args.url, wav, args.clip_s, args.requests_per_worker))
        return 0

    with tempfile.TemporaryDirectory() as scratch:
        model_path = args.model or export_random_model(args.random_model, Path(scratch))
        reference_ms = bare_model_ms(model_path, samples, repeats=20)
        with gateway(model_path, args.port, 1, 0.0) as url:
            unbatched = measure(url, wav, args.clip_s, args.requests_per_worker)
        with gateway(model_path, args.port, args.batch_max_size, args.batch_max_wait_ms) as url:
            batched = measure(url, wav, args.clip_s, args.requests_per_worker)
    print_table("micro-batching off (ASR_BATCH_MAX_SIZE=1)", unbatched)
    print_table(f"micro-batching on (max {args.batch_max_size}, wait {args.batch_max_wait_ms:g} ms)", batched)
    ratio = batched[16]["audio_s_per_s"] / unbatched[16]["audio_s_per_s"]
    print(f"\nthroughput at concurrency 16, batched / unbatched: {ratio:.2f}x (target >= 3x)")
    print(f"bare model call p50 (in-process, same clip): {reference_ms:.1f} ms")
    print(f"gateway overhead p50 at concurrency 1, batching off: {unbatched[1]['p50_ms'] - reference_ms:.1f} ms "
          f"(target < 10 ms); batching on: {batched[1]['p50_ms'] - reference_ms:.1f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
