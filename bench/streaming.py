"""Streaming latency over `WS /v1/stream`: utterance end -> its `final`, and how far partials lag the audio.

A gateway runs in this process (uvicorn on loopback); 1 and then N clients each stream the same file at 1x real time
in 20 ms frames: four festival sentences (tests/fixtures), each followed by 1 s of faint noise.

- final latency: for each sentence, the arrival of the `final` holding its last word minus the moment the client
  finished sending that sentence's audio. The floor is the pause rule: a segment ends once `pause_s` of silence
  has been heard (0.5 s), plus the wait for the next hop (<= 0.5 s), plus one decode.
- partial lag: for each `partial`, its arrival minus the moment the audio it covers (`decoded_until_s`) was sent.
- reference, measured in the same run: one offline `POST /v1/transcribe` of one sentence (the time a
  non-streaming client waits after the sentence ends, uploading it then).

Models: the bundled demo model (real words), and a random model of the wav2vec 2.0 base architecture (94 M
parameters; its words are noise, so its finals come at the length cap or at end of audio and only the partial lag
and the end-of-audio latency are meaningful for it).

    python -m bench.streaming                         # demo and base, 1 and 8 streams (~4 min on 2 cores)
    python -m bench.streaming --models demo --streams 1 4
    taskset -c 0 python -m bench.streaming --models base --streams 4 --search-p95-s 1 --max-segment-s 3.5
                                                      # streams per core: the most whose final p95 <= 1 s
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402
import numpy as np  # noqa: E402
import soundfile  # noqa: E402

from bench.live_server import serve  # noqa: E402
from bench.stream_client import StreamRun, stream_audio  # noqa: E402
from service import Settings, create_app  # noqa: E402
from service.settings_groups import StreamSettings  # noqa: E402

FESTIVAL = REPO_ROOT / "tests" / "fixtures" / "festival"
SENTENCES = ["eval_festival-festival-007900.wav", "eval_festival-festival-007902.wav",
             "eval_festival-festival-007904.wav", "eval_festival-festival-007906.wav"]  # fmt: skip
PAUSE_S = 1.0
FRAME_S = 0.02


def stream_file() -> tuple[np.ndarray, list[float]]:
    """Return the sentences joined with pauses, and the time (s) each sentence's audio ends."""
    rng = np.random.default_rng(0)
    parts, ends, at_s = [], [], 0.0
    for name in SENTENCES:
        samples, _ = soundfile.read(FESTIVAL / name, dtype="float32")
        at_s += len(samples) / 16_000
        ends.append(at_s)
        at_s += PAUSE_S
        parts += [samples, (1e-3 * rng.standard_normal(int(PAUSE_S * 16_000))).astype(np.float32)]
    return np.concatenate(parts), ends


def final_latencies(run: StreamRun, utterance_ends_s: list[float]) -> list[float]:
    """Seconds from each utterance's end (as sent) to the arrival of the last final whose words end in it."""
    latencies, previous_end_s = [], 0.0
    for end_s in utterance_ends_s:
        arrivals = [
            at
            for at, event in run.events
            if event["type"] == "final" and event["words"] and previous_end_s < event["end_s"] <= end_s + 0.1
        ]
        if arrivals:
            latencies.append(max(arrivals) - (run.started_at + end_s))
        previous_end_s = end_s + 0.1
    return latencies


def partial_lags(run: StreamRun) -> list[float]:
    return [at - (run.started_at + event["decoded_until_s"]) for at, event in run.events if event["type"] == "partial"]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def wav_bytes(samples: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, 16_000, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def offline_reference_s(address: str, repeats: int = 5) -> float:
    """Median seconds of one offline transcription of the first sentence over HTTP."""
    clip = wav_bytes(soundfile.read(FESTIVAL / SENTENCES[0], dtype="float32")[0])
    times = []
    with httpx.Client(base_url=f"http://{address}", timeout=120) as client:
        for _ in range(repeats + 1):
            started = time.monotonic()
            client.post("/v1/transcribe", files={"file": ("s.wav", clip)}).raise_for_status()
            times.append(time.monotonic() - started)
    return statistics.median(times[1:])


def export_random_base(out_dir: Path, precision: str = "float32") -> Path:
    """Write a random wav2vec 2.0 base-architecture SavedModel (as bench/export_latency.py does); `precision`
    as `asr export --precision` takes it (int8: the gateway runs its TensorFlow Lite model)."""
    from model_export.export import export_saved_model
    from wav2vec2 import Wav2Vec2Config, Wav2Vec2ForCTC, Wav2Vec2Processor

    model = Wav2Vec2ForCTC(Wav2Vec2Config()).build_weights()
    return export_saved_model(model, Wav2Vec2Processor(), out_dir, "random-base", 1, precision).parent


def final_latencies_or_flush(run: StreamRun, utterance_ends_s: list[float]) -> list[float]:
    """The sentences' final latencies; for a model whose words are noise (random weights), the end of audio -> the
    last event instead: the time a client waits for the rest of the transcript after it stops talking."""
    latencies = final_latencies(run, utterance_ends_s)
    if latencies:
        return latencies
    return [max(at for at, _ in run.events) - run.end_sent_at] if run.events else [float("inf")]


def measure(
    settings: Settings, streams: list[int], audio: np.ndarray, ends_s: list[float], search_p95_s: float | None = None
) -> list[str]:
    """One table row per stream count; with `search_p95_s`, counts 1, 2, ... until the final p95 passes it."""
    rows = []
    with serve(create_app(settings)) as url:
        address = url.removeprefix("http://")
        reference_s = offline_reference_s(address)
        counts = range(1, max(streams) + 1) if search_p95_s is not None else streams
        for count in counts:

            async def run_all(count: int = count) -> list[StreamRun | BaseException]:
                clients = (stream_audio(address, audio, FRAME_S) for _ in range(count))
                return await asyncio.gather(*clients, return_exceptions=True)

            results = asyncio.run(run_all())
            runs = [run for run in results if isinstance(run, StreamRun)]
            failed = len(results) - len(runs)  # e.g. still waiting for finals after the client's timeout
            finals = [lat for run in runs for lat in final_latencies_or_flush(run, ends_s)] + [float("inf")] * failed
            lags = [lag for run in runs for lag in partial_lags(run)]
            flush = [max(at for at, _ in run.events) - run.end_sent_at for run in runs if run.events]
            codes = sorted({run.close_code for run in runs}) + (["client timeout"] * bool(failed))
            rows.append(
                f"| {settings.model.name} | {count} | {percentile(finals, 50):.2f} | {percentile(finals, 95):.2f} "
                f"| {percentile(lags, 50):.2f} | {percentile(lags, 95):.2f} | {percentile(flush, 50):.2f} "
                f"| {reference_s:.3f} | {len(finals)}/{len(ends_s) * count} | {codes} |"
            )
            print(rows[-1], flush=True)
            if search_p95_s is not None and not percentile(finals, 95) <= search_p95_s:
                print(f"streams at 1x with final p95 <= {search_p95_s:g} s: {count - 1}", flush=True)
                break
        else:
            if search_p95_s is not None:
                print(f"streams at 1x with final p95 <= {search_p95_s:g} s: at least {count}", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["demo", "base"], choices=["demo", "base"])
    parser.add_argument("--streams", nargs="+", type=int, default=[1, 8])
    parser.add_argument(
        "--search-p95-s",
        type=float,
        help="run 1, 2, ... streams (up to the largest --streams) until the final p95 exceeds this; under "
        "`taskset -c 0` the count before is the streams per core",
    )
    parser.add_argument(
        "--max-segment-s",
        type=float,
        default=StreamSettings.model_fields["max_segment_s"].default,
        help="ASR_STREAM_MAX_SEGMENT_S: a random model hears no pauses, so its segments run to this cap (3.5: "
        "windows of a spoken sentence's length)",
    )
    parser.add_argument(
        "--precision",
        choices=["float32", "int8"],
        default="float32",
        help="the base model's export (`asr export --precision`); the demo model is always the bundled one",
    )
    args = parser.parse_args(argv)
    audio, ends_s = stream_file()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; load {os.getloadavg()}")
    print(f"audio: {len(audio) / 16_000:.1f} s, {len(SENTENCES)} sentences, {FRAME_S * 1000:.0f} ms frames at 1x")
    print(
        "| model | streams | final p50 s | final p95 s | partial lag p50 s | partial lag p95 s "
        "| end-of-audio -> last event s | offline 1 sentence s (ref) | finals matched | close codes |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models:
            common = {"log_json": False, "stream_max_segment_s": args.max_segment_s}
            if model == "demo":
                settings = Settings(model_name="demo", **common)
            else:
                path = export_random_base(Path(tmp), args.precision)
                settings = Settings(model_path=path, model_name=f"random-base-{args.precision}", **common)
            measure(settings, args.streams, audio, ends_s, args.search_p95_s)
    print(f"load after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
