"""Long audio: boundary effects of the chunk settings, and the gateway's time and peak memory up to one hour.

Run: `python -m bench.long_audio sweep` and `python -m bench.long_audio scale` (both with the bundled demo model
and its LM; `--decoder greedy` for greedy decoding).

- `sweep`: a 5-minute file joined from the fixture recordings (bench/joined_audio.py) is transcribed
  in-process with several (ASR_CHUNK_S, ASR_CHUNK_CONTEXT_S) pairs; each is scored by its word error rate
  against the same utterances transcribed one by one (the reference, measured in the same run), and timed.
- `scale`: a real gateway (`asr serve` in a subprocess) transcribes uploads of 30 s, 5 min and 60 min (the
  joined file, tiled); for each it prints the wall time, the real-time factor (compute s / audio s), the ratio
  of that RTF to the 30 s upload's (the reference: 1.0 means time grows linearly with duration), and the
  gateway's peak RSS (VmHWM from /proc) after it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.gateway_process import free_port, running_gateway
from transcription.names import DECODER_NAMES, LANGUAGE_MODEL

REPO_ROOT = Path(__file__).resolve().parents[1]


def machine() -> str:
    load = os.getloadavg()
    return (f"{platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"load average {load[0]:.1f} (other jobs share the CPUs: numbers measured under contention)")  # fmt: skip


async def _transcribe(settings, samples_list):
    from engine import Engine
    from engine.sources.in_process import InProcessSource

    engine = Engine(settings, InProcessSource(settings))
    await engine.start()
    try:
        results = []
        for samples in samples_list:
            started = time.perf_counter()
            transcript = await engine.transcribe(samples)
            results.append((transcript, time.perf_counter() - started))
        return results
    finally:
        await engine.close()


def sweep(decoder: str, duration_s: float, pairs: list[tuple[float, float]]) -> None:
    import jiwer

    from bench.joined_audio import join_utterances
    from service.config import Settings

    joined = join_utterances(duration_s, seed=13)
    alone = asyncio.run(_transcribe(Settings(decoder=decoder), list(joined.utterances.values())))
    by_source = dict(zip(joined.utterances, (transcript for transcript, _ in alone), strict=True))
    reference = " ".join(by_source[span.source].text for span in joined.spans)
    print(f"{machine()}\n{joined.duration_s:.0f} s joined from {len(joined.spans)} utterances, decoder {decoder}")
    print(f"{'chunk s':>8} {'context s':>9} {'boundary WER %':>14} {'RTF':>6}")
    for chunk_s, context_s in pairs:
        settings = Settings(decoder=decoder, chunk_s=chunk_s, chunk_context_s=context_s)
        [(transcript, wall_s)] = asyncio.run(_transcribe(settings, [joined.samples]))
        wer = jiwer.wer(reference, transcript.text)
        print(f"{chunk_s:>8g} {context_s:>9g} {100 * wer:>14.2f} {wall_s / joined.duration_s:>6.3f}", flush=True)


@contextlib.contextmanager
def gateway(decoder: str) -> Iterator[tuple[str, int]]:
    """Runs `asr serve` (the bundled model) in a subprocess with caps raised for hour-long uploads."""
    port = free_port()
    env = dict(os.environ, ASR_DECODER=decoder, ASR_MAX_UPLOAD_BYTES=str(400 * 1024 * 1024),
               ASR_LOG_JSON="false", TF_CPP_MIN_LOG_LEVEL="2")  # fmt: skip
    command = [sys.executable, "-m", "cli.main", "serve", "--port", str(port)]
    with running_gateway(command, port, env, REPO_ROOT, ready_timeout_s=300, stop_timeout_s=60,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as (url, process):  # fmt: skip
        yield url, process.pid


def memory_mb(pid: int) -> dict[str, float]:
    """Return the process's current (VmRSS) and peak (VmHWM) resident memory in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields


def scale(decoder: str, durations_s: list[float]) -> None:
    import httpx
    import soundfile as sf

    from bench.joined_audio import SAMPLE_RATE_HZ, join_utterances, tiled

    joined = join_utterances(300.0, seed=13)
    print(f"{machine()}\ngateway: asr serve, embedded bundled demo model, decoder {decoder}")
    print(f"{'audio':>8} {'wall s':>8} {'RTF':>6} {'RTF / RTF(first)':>16} {'peak RSS MB':>11} {'words':>6}")
    with gateway(decoder) as (url, pid):
        baseline = memory_mb(pid)
        print(f"{'(idle)':>8} {'':>8} {'':>6} {'':>16} {baseline['VmHWM']:>11.0f}")
        reference_rtf = None
        for duration_s in durations_s:
            buffer = io.BytesIO()
            sf.write(buffer, tiled(joined, duration_s), SAMPLE_RATE_HZ, format="WAV", subtype="PCM_16")
            started = time.perf_counter()
            with ThreadPoolExecutor(1) as pool:
                upload = pool.submit(httpx.post, f"{url}/v1/transcribe",
                                     files={"file": ("long.wav", buffer.getvalue())}, timeout=None)  # fmt: skip
                while not upload.done():  # progress, so a run cut short still shows the memory so far
                    with contextlib.suppress(TimeoutError):
                        upload.result(timeout=60)
                    if not upload.done():
                        rss = memory_mb(pid)
                        print(f"    ... {time.perf_counter() - started:.0f} s: RSS {rss['VmRSS']:.0f} MB, "
                              f"peak {rss['VmHWM']:.0f} MB", flush=True)  # fmt: skip
                response = upload.result()
            wall_s = time.perf_counter() - started
            response.raise_for_status()
            rtf = wall_s / duration_s
            reference_rtf = reference_rtf or rtf
            label = f"{duration_s / 60:g} min" if duration_s >= 60 else f"{duration_s:g} s"
            words = len(response.json()["text"].split())
            print(f"{label:>8} {wall_s:>8.1f} {rtf:>6.3f} {rtf / reference_rtf:>16.2f} "
                  f"{memory_mb(pid)['VmHWM']:>11.0f} {words:>6}", flush=True)  # fmt: skip


def main() -> None:
    sys.path.insert(0, str(REPO_ROOT))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["sweep", "scale"])
    parser.add_argument("--decoder", choices=DECODER_NAMES, default=LANGUAGE_MODEL)
    parser.add_argument("--durations", default="30,300,3600", help="scale: upload lengths in seconds")
    parser.add_argument("--pairs", default="30:2.5,10:2,5:1,4:1", help="sweep: chunk_s:context_s pairs")
    parser.add_argument("--sweep-duration", type=float, default=300.0)
    args = parser.parse_args()
    if args.mode == "sweep":
        pairs = [tuple(float(x) for x in pair.split(":")) for pair in args.pairs.split(",")]
        sweep(args.decoder, args.sweep_duration, pairs)
    else:
        scale(args.decoder, [float(x) for x in args.durations.split(",")])


if __name__ == "__main__":
    main()
