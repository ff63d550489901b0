"""Memory of a gateway that unloads an idle model and loads it again (ASR_MODEL_TTL_S): RSS at each step.

    python -m bench.model_ttl                       # the bundled demo model and a random wav2vec2-base export
    python -m bench.model_ttl --ttl-s 5 --model-dir exports/wav2vec2

One `asr serve` subprocess serves the demo model (default) and a second model; the second is used once, left
idle until `/v1/models` reports it unloaded, then used again. Printed: the process's resident memory after each
step, and how long the reloading request took (its wait for the load included).
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import soundfile as sf

from bench.gateway_process import free_port, rss_bytes, running_gateway

REPO = Path(__file__).resolve().parents[1]


def _clip() -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, np.random.default_rng(0).normal(0, 0.1, 5 * 16_000).astype(np.float32), 16_000, format="WAV")
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, help="the second model (default: a random wav2vec2-base export)")
    parser.add_argument("--ttl-s", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        model_dir = args.model_dir or _random_base_export(Path(workdir))
        port = free_port()
        command = [sys.executable, "-m", "cli.main", "serve", "--port", str(port), "--no-lm",
                   "--model", "demo=" + str(REPO / "service" / "bundled_model" / "demo"),
                   "--model", f"second={model_dir}"]  # fmt: skip
        env = {**os.environ, "ASR_MODEL_TTL_S": str(args.ttl_s), "ASR_MODEL_POLL_S": "1", "ASR_LOG_JSON": "false"}
        with running_gateway(command, port, env, REPO, 600, 60, stderr=open(Path(workdir) / "log", "w")) as (url, p):
            clip, rows = _clip(), []
            rows.append(("both loaded, before any request", rss_bytes(p.pid) / 2**20, None))
            httpx.post(f"{url}/v1/transcribe?model=second", files={"file": ("a.wav", clip)}, timeout=300)
            rows.append(("after a request to `second`", rss_bytes(p.pid) / 2**20, None))
            while any(model["loaded"] for model in httpx.get(f"{url}/v1/models").json()["data"][1:]):
                httpx.post(f"{url}/v1/transcribe?model=demo", files={"file": ("a.wav", clip)}, timeout=300)
                time.sleep(1)
            time.sleep(3)  # the unloaded backend is closed and collected just after /v1/models says so
            rows.append((f"`second` unloaded after {args.ttl_s:g} s idle", rss_bytes(p.pid) / 2**20, None))
            started = time.perf_counter()
            response = httpx.post(f"{url}/v1/transcribe?model=second", files={"file": ("a.wav", clip)}, timeout=300)
            assert response.status_code == 200, response.text
            rows.append(("after a request that reloaded it", rss_bytes(p.pid) / 2**20, time.perf_counter() - started))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; second model: {model_dir}")
    print("| step | gateway RSS (MiB) | request s |\n|---|---:|---:|")
    for step, rss, seconds in rows:
        print(f"| {step} | {rss:.0f} | {'' if seconds is None else f'{seconds:.1f}'} |")


def _random_base_export(workdir: Path) -> Path:
    from bench.random_checkpoint import random_base_checkpoint
    from model_export.export import export_saved_model

    model, processor, _ = random_base_checkpoint(workdir)
    return export_saved_model(model, processor, workdir / "exports", "base", 1).parent


if __name__ == "__main__":
    main()
