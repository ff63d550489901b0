"""Load test of the HTTP gateway: server configurations compared in one interleaved run.

Each configuration (`NAME:key=value,...`; keys: batch, wait_ms, intra, inter, i.e. ASR_BATCH_MAX_SIZE,
ASR_BATCH_MAX_WAIT_MS, ASR_INTRA_OP_THREADS, ASR_INTER_OP_THREADS; a key left out keeps the gateway's default)
gets its own gateway subprocess over the same SavedModel. All of them start first; then every concurrency is
measured on each gateway in turn, `--rounds` times in alternating order, so that a machine getting busier or
quieter during the run weighs on every configuration alike. Printed per configuration and concurrency: p50/p95
latency and audio seconds transcribed per second, and the ratio to the first configuration (the reference).

    python -m bench.load                                       # the demo model, the two default configurations
    python -m bench.load --configs "old:batch=8,intra=0,inter=0" "new:batch=1,intra=2,inter=1" \\
        "new-inter2:batch=1,intra=2,inter=2" --concurrency 1 4 16 --duration-s 20
    python -m bench.load --base-architecture                   # a random wav2vec2-base export (94 M parameters)
    python -m bench.load --model exports/wav2vec2 --clip-s 5
    python -m bench.load --url http://127.0.0.1:8000           # a running gateway, as it is configured

The gateways inherit no ASR_* variable from this shell: a configuration says everything that differs from
the defaults. The client (httpx, in this process) shares the machine's CPUs with the gateway it drives, alike
for every configuration; on a busy machine, compare ratios only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import soundfile

from bench.gateway_process import free_port, running_gateway

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_MODEL = REPO_ROOT / "service" / "bundled_model" / "demo"
SAMPLE_RATE_HZ = 16_000

# The configuration keys, and the gateway settings they set.
CONFIG_KEYS = {
    "batch": "ASR_BATCH_MAX_SIZE",
    "wait_ms": "ASR_BATCH_MAX_WAIT_MS",
    "intra": "ASR_INTRA_OP_THREADS",
    "inter": "ASR_INTER_OP_THREADS",
}


def schedulable_cpus() -> int:
    """CPUs this process may run on, counted as engine.thread_pools counts them (without importing TensorFlow)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# The question of issue 16 on a CPU: micro-batching with TensorFlow's default pools, against no batching and
# one intra-op thread per CPU, one inter-op thread (the batcher makes one model call at a time).
DEFAULT_CONFIGS = (
    "old:batch=8,intra=0,inter=0",
    f"new:batch=1,intra={schedulable_cpus()},inter=1",
)

# Random-weight models of two sizes, for machines without a trained export (the transcripts are noise;
# the compute per second of audio is what matters here).
RANDOM_MODELS = {
    "tiny": dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                 conv_dim=(16, 16, 16), conv_kernel=(10, 3, 3), conv_stride=(5, 2, 2),
                 num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2),
    "small": dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024,
                  conv_dim=(128,) * 7, num_conv_pos_embeddings=64, num_conv_pos_embedding_groups=8),
}  # fmt: skip


@dataclass(frozen=True)
class GatewayConfig:
    """One configuration to measure: a name and the ASR_* variables its gateway runs with."""

    name: str
    env: dict[str, str]

    @classmethod
    def parse(cls, text: str) -> GatewayConfig:
        """Returns the configuration of `NAME:key=value,...` (`NAME:` alone: the gateway's defaults)."""
        name, colon, settings = text.partition(":")
        if not colon or not name.strip():
            raise argparse.ArgumentTypeError(f"{text!r}: expected NAME:key=value,... (e.g. new:batch=1,intra=2)")
        env = {}
        for item in filter(None, (part.strip() for part in settings.split(","))):
            key, equals, value = item.partition("=")
            if not equals or key.strip() not in CONFIG_KEYS:
                raise argparse.ArgumentTypeError(
                    f"{text!r}: {item!r} is not key=value with a key in {list(CONFIG_KEYS)}"
                )
            key, value = key.strip(), value.strip()
            try:
                number = float(value) if key == "wait_ms" else int(value)
            except ValueError:
                kind = "a number" if key == "wait_ms" else "a whole number"
                raise argparse.ArgumentTypeError(f"{text!r}: {key} must be {kind}, got {value!r}") from None
            env[CONFIG_KEYS[key]] = str(number)
        return cls(name.strip(), env)


@dataclass
class Cell:
    """What one configuration did at one concurrency, summed over the rounds."""

    latencies_s: list[float] = field(default_factory=list)
    audio_s: float = 0.0
    wall_s: float = 0.0
    errors: int = 0

    def add(self, other: Cell) -> None:
        self.latencies_s += other.latencies_s
        self.audio_s += other.audio_s
        self.wall_s += other.wall_s
        self.errors += other.errors

    @property
    def audio_s_per_s(self) -> float:
        return self.audio_s / self.wall_s if self.wall_s else 0.0

    def percentile_ms(self, q: float) -> float:
        return float(np.percentile(self.latencies_s, q)) * 1000 if self.latencies_s else float("nan")


def clip_bytes(duration_s: float, seed: int) -> bytes:
    """Returns a 16 kHz 16-bit WAV of a noisy tone."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration_s * SAMPLE_RATE_HZ)) / SAMPLE_RATE_HZ
    samples = 0.3 * np.sin(2 * np.pi * rng.uniform(100, 300) * t) + 0.02 * rng.standard_normal(len(t))
    buffer = io.BytesIO()
    soundfile.write(buffer, samples.astype(np.float32), SAMPLE_RATE_HZ, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


async def drive(url: str, wav: bytes, clip_s: float, concurrency: int, duration_s: float) -> Cell:
    """Keeps `concurrency` uploads in flight for `duration_s`; requests started before then are waited for."""
    cell = Cell()
    deadline = time.perf_counter() + duration_s

    async def worker(http: httpx.AsyncClient) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await http.post("/v1/transcribe", files={"file": ("clip.wav", wav)})
            if response.status_code != 200:
                cell.errors += 1
                continue
            cell.latencies_s.append(time.perf_counter() - started)
            cell.audio_s += clip_s

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        cell.wall_s = time.perf_counter() - started
    return cell


@contextlib.contextmanager
def gateway(model_path: Path, config: GatewayConfig, log_dir: Path) -> Iterator[str]:
    """Runs `uvicorn service.main:create_app` in a subprocess with the configuration's ASR_* variables; its
    output goes to a file in `log_dir`, shown if it does not become ready."""
    port = free_port()
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("ASR_")}
    env = {
        **inherited,
        "ASR_MODEL_PATH": str(model_path),
        "ASR_QUEUE_MAX_SIZE": "256",  # room for the highest concurrency: a 503 would not measure the model
        "ASR_LOG_JSON": "false",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        **config.env,
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "service.main:create_app",
               "--port", str(port), "--log-level", "warning"]  # fmt: skip
    log_path = log_dir / f"gateway-{port}.log"
    with open(log_path, "wb") as log:
        ready = False
        try:
            with running_gateway(
                command, port, env, REPO_ROOT, ready_timeout_s=300, stop_timeout_s=30, stdout=log, stderr=log
            ) as (url, _):
                ready = True
                yield url
        except RuntimeError as error:
            if ready:
                raise
            tail = log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{config.name}: {error}; its output ended with:\n{tail}") from error


def describe_runtime(url: str) -> str:
    """Returns the batching and thread pools the gateway at `url` reports in /v1/models."""
    (model,) = httpx.get(url + "/v1/models", timeout=30).json()["data"]
    runtime = model.get("runtime")
    if runtime is None:
        return f"backend {model['backend']} (no in-process runtime)"

    def pool(threads: int) -> str:
        return str(threads) if threads else f"0 (= {runtime['schedulable_cpus']})"

    return (
        f"batch {runtime['batch_max_size']}, wait {runtime['batch_max_wait_ms']:g} ms, "
        f"intra-op {pool(runtime['intra_op_threads'])}, inter-op {pool(runtime['inter_op_threads'])}"
    )


def warm_up(url: str, wav: bytes, clip_s: float, concurrency: int) -> None:
    """A few seconds at the highest concurrency: first-call tracing, connection pools and allocator growth."""
    asyncio.run(drive(url, wav, clip_s, concurrency, duration_s=3.0))


def measure(
    urls: dict[str, str], wav: bytes, clip_s: float, concurrencies: Sequence[int], duration_s: float, rounds: int
) -> dict[str, dict[int, Cell]]:
    """Returns a Cell per configuration and concurrency, measured round by round in alternating order."""
    cells = {name: {concurrency: Cell() for concurrency in concurrencies} for name in urls}
    names = list(urls)
    for concurrency in concurrencies:
        for round_index in range(rounds):
            order = names if round_index % 2 == 0 else names[::-1]
            for name in order:
                cell = asyncio.run(drive(urls[name], wav, clip_s, concurrency, duration_s / rounds))
                cells[name][concurrency].add(cell)
                print(f"  {name:>12} c={concurrency:<3} round {round_index + 1}/{rounds}: "
                      f"{cell.audio_s_per_s:7.2f} audio s/s", file=sys.stderr)  # fmt: skip
    return cells


def print_results(cells: dict[str, dict[int, Cell]], reference: str) -> None:
    print(f"\n{'config':>12} {'conc.':>5} {'p50 ms':>9} {'p95 ms':>9} {'audio s/s':>10} {'requests':>8} "
          f"{'x ' + reference + ' audio s/s':>20} {'x p50':>7}")  # fmt: skip
    concurrencies = list(next(iter(cells.values())))
    for concurrency in concurrencies:
        base = cells[reference][concurrency]
        for name, by_concurrency in cells.items():
            cell = by_concurrency[concurrency]
            ratio = cell.audio_s_per_s / base.audio_s_per_s if base.audio_s_per_s else float("nan")
            p50_ratio = cell.percentile_ms(50) / base.percentile_ms(50)
            errors = f"  ({cell.errors} errors)" if cell.errors else ""
            print(f"{name:>12} {concurrency:>5} {cell.percentile_ms(50):>9.1f} {cell.percentile_ms(95):>9.1f} "
                  f"{cell.audio_s_per_s:>10.2f} {len(cell.latencies_s):>8} {ratio:>19.2f}x {p50_ratio:>6.2f}x"
                  f"{errors}")  # fmt: skip
    for name in cells:
        if name == reference:
            continue
        ratios = ", ".join(
            f"c={concurrency} {cells[name][concurrency].audio_s_per_s / base_throughput:.2f}x"
            for concurrency in concurrencies
            if (base_throughput := cells[reference][concurrency].audio_s_per_s)
        )
        print(f"\nthroughput {name} / {reference}: {ratios}")


def results_json(cells: dict[str, dict[int, Cell]], runtimes: dict[str, str], header: dict) -> dict:
    return {
        **header,
        "configs": {
            name: {
                "runtime": runtimes.get(name),
                "cells": {
                    str(concurrency): {
                        "p50_ms": cell.percentile_ms(50),
                        "p95_ms": cell.percentile_ms(95),
                        "audio_s_per_s": cell.audio_s_per_s,
                        "requests": len(cell.latencies_s),
                        "errors": cell.errors,
                    }
                    for concurrency, cell in by_concurrency.items()
                },
            }
            for name, by_concurrency in cells.items()
        },
    }


def bare_model_ms(model_path: Path, wav: bytes, repeats: int = 20) -> float:
    """Returns the median time of one in-process model call on the clip (TensorFlow's default pools): what the
    gateway's p50 at concurrency 1 adds its overhead to."""
    import statistics

    from cli.tf_setup import load_tensorflow

    load_tensorflow(verbose=False)
    from engine.model_client import SavedModelClient

    samples, _ = soundfile.read(io.BytesIO(wav), dtype="float32")
    client = SavedModelClient(model_path)
    client.logits_batch([samples])
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        client.logits_batch([samples])
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{cpu}, {schedulable_cpus()} schedulable CPUs, Python {platform.python_version()}"


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


def export_random_model(size: str, out_dir: Path) -> Path:
    """Returns the model dir of a seeded random model exported to `out_dir` (tiny, small or base)."""
    from cli.tf_setup import load_tensorflow

    load_tensorflow(verbose=False)  # without TensorFlow's start-up lines on the terminal
    from model_export.export import export_saved_model

    if size == "base":
        from bench.random_checkpoint import random_base_checkpoint

        model, processor, _ = random_base_checkpoint(out_dir)
    else:
        import keras

        from wav2vec2 import Wav2Vec2Config, Wav2Vec2ForCTC, Wav2Vec2Processor

        keras.utils.set_random_seed(0)
        model, processor = Wav2Vec2ForCTC(Wav2Vec2Config(**RANDOM_MODELS[size])), Wav2Vec2Processor()
    return export_saved_model(model, processor, out_dir / "models", f"random-{size}", 1).parent


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--model", type=Path, help="SavedModel dir to serve (default: the bundled demo model)")
    source.add_argument(
        "--base-architecture", action="store_true", help="export a random wav2vec2-base model to a temp dir first"
    )
    source.add_argument("--random-model", choices=sorted(RANDOM_MODELS), help="export a small random model first")
    source.add_argument("--url", help="measure this running gateway only, as it is configured")
    parser.add_argument(
        "--configs",
        nargs="+",
        type=GatewayConfig.parse,
        default=[GatewayConfig.parse(text) for text in DEFAULT_CONFIGS],
        metavar="NAME:key=value,...",
        help=f"configurations; the first is the reference (keys {', '.join(CONFIG_KEYS)}; "
        f"default: {' '.join(DEFAULT_CONFIGS)})",
    )
    parser.add_argument("--concurrency", nargs="+", type=int, default=[1, 4, 16], help="default: 1 4 16")
    parser.add_argument("--duration-s", type=float, default=20.0, help="seconds per configuration and concurrency")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds the duration is split into")
    parser.add_argument("--clip-s", type=float, default=3.0, help="audio per request (default 3 s: one chunk)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument(
        "--bare-model",
        action="store_true",
        help="also time the bare in-process model call (the reference of the gateway's overhead at concurrency 1)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    names = [config.name for config in args.configs]
    if len(set(names)) != len(names):
        build_parser().error(f"configuration names must differ: {names}")
    wav = clip_bytes(args.clip_s, seed=0)
    header = {"machine": machine(), "load_average_start": load_average(), "clip_s": args.clip_s}
    print(f"machine: {header['machine']}; load average {header['load_average_start']}")
    print(f"clip {args.clip_s:g} s; {args.duration_s:g} s per cell in {args.rounds} rounds; concurrency "
          f"{' '.join(map(str, args.concurrency))}")  # fmt: skip

    with tempfile.TemporaryDirectory() as scratch, contextlib.ExitStack() as gateways:
        if args.url:
            urls = {"running": args.url}
        else:
            if args.base_architecture or args.random_model:
                size = "base" if args.base_architecture else args.random_model
                print(f"exporting a random {size} model ...", file=sys.stderr)
                model_path = export_random_model(size, Path(scratch))
            else:
                model_path = args.model or DEMO_MODEL
            header["model"] = str(model_path)
            print(f"model: {model_path}")
            if args.bare_model:
                header["bare_model_ms"] = bare_model_ms(model_path, wav)
            urls = {
                config.name: gateways.enter_context(gateway(model_path, config, Path(scratch)))
                for config in args.configs
            }
        runtimes = {name: describe_runtime(url) for name, url in urls.items()}
        for name, runtime in runtimes.items():
            print(f"  {name}: {runtime}")
        for url in urls.values():
            warm_up(url, wav, args.clip_s, max(args.concurrency))
        cells = measure(urls, wav, args.clip_s, args.concurrency, args.duration_s, args.rounds)

    header["load_average_end"] = load_average()
    print_results(cells, reference=next(iter(cells)))
    if "bare_model_ms" in header:
        print(f"\nbare model call p50 (in this process, same clip): {header['bare_model_ms']:.1f} ms; gateway "
              f"overhead at c=1 = p50 minus that")  # fmt: skip
    print(f"\nload average at the start {header['load_average_start']}, at the end {header['load_average_end']}")
    if args.json:
        args.json.write_text(json.dumps(results_json(cells, runtimes, header), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
