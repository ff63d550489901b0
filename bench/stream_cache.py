"""A stream's cache (service/streaming/feature_cache.py): what it saves per hop, and what it changes in the words.

The stream is replayed hop by hop (feed `ASR_STREAM_HOP_S` of audio, decode the window, repeat; then flush), so the
decodes are the same with and without the cache whatever the machine's load; both run through the embedded
backend, the gateway's model path:

- agreement: the demo model's weights re-exported with the `conv_features` / `logits_from_features` signatures
  (layer-norm feature encoder, audio normalised per call); the finals of real speech fixtures (festival sentences
  and FSDD digits joined by 1 s pauses) with the cache vs without: word agreement (1 - WER) and exact-match rate;
- the conv feature encoder's share of one base-model decode of a 2-10 s window (CPU time of each half alone);
- cost: CPU seconds of the process (model, decoding, everything) per second of streamed audio, with no cache,
  with the logits of unchanged chunks kept (what every runtime gets), and with the conv features kept as well,
  for the demo model and a random model of the base architecture (94 M parameters, group norm), on the festival
  stream. CPU time, not wall time, so a busy machine inflates it less; under `taskset -c 0` the streams one core
  keeps up with at 1x real time are 1 / (CPU s per audio s).

    taskset -c 0 python -m bench.stream_cache                 # both models (~3 min on one idle core)
    taskset -c 0 python -m bench.stream_cache --models demo
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import platform
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import jiwer  # noqa: E402
import numpy as np  # noqa: E402
import soundfile  # noqa: E402

from bench.streaming import export_random_base  # noqa: E402
from engine import Engine, build_engine  # noqa: E402
from service import Settings  # noqa: E402
from service.config import BUNDLED_MODEL_PATH  # noqa: E402
from service.streaming import SlidingWindow, WindowPolicy  # noqa: E402
from service.streaming.feature_cache import StreamCache  # noqa: E402
from transcription import Transcript  # noqa: E402

FIXTURES = REPO_ROOT / "tests" / "fixtures"
PAUSE_S = 1.0


def joined(paths: list[Path], pause_s: float = PAUSE_S) -> np.ndarray:
    """Return the clips (16 kHz, or resampled to it) joined by `pause_s` of faint noise."""
    import soxr

    rng = np.random.default_rng(0)
    parts = []
    for path in paths:
        samples, rate = soundfile.read(path, dtype="float32")
        if rate != 16_000:
            samples = soxr.resample(samples, rate, 16_000).astype(np.float32)
        parts += [samples, (1e-3 * rng.standard_normal(int(pause_s * 16_000))).astype(np.float32)]
    return np.concatenate(parts)


def fixture_streams() -> dict[str, tuple[np.ndarray, str]]:
    """Return each fixture stream's audio and its true words."""
    from training.data.fsdd import DIGIT_WORDS

    festival = sorted((FIXTURES / "festival").glob("*.wav"))
    with open(FIXTURES / "festival" / "transcripts.tsv", newline="") as manifest:
        texts = dict(csv.reader(manifest, delimiter="\t"))
    fsdd = sorted((FIXTURES / "fsdd").glob("*.wav"))
    return {
        "festival": (joined(festival), " ".join(texts[path.name] for path in festival)),
        "fsdd": (joined(fsdd), " ".join(DIGIT_WORDS[int(path.name[0])] for path in fsdd)),
    }


async def replay(
    transcribe: Callable[[np.ndarray], Awaitable[Transcript]], audio: np.ndarray, policy: WindowPolicy
) -> list[str]:
    """Return the finals' texts of `audio` streamed one hop at a time, each hop decoded before the next comes."""
    window = SlidingWindow(policy)
    hop = int(window.policy.hop_s * window.policy.sample_rate_hz)
    finals = []
    for start in range(0, len(audio), hop):
        window.feed(audio[start : start + hop])
        finals += (await window.decode(transcribe))[0]
    while not window.finished:
        finals += (await window.decode(transcribe, flush=True))[0]
    return [segment.text for segment in finals if segment.text]


# What each replay keeps between hops: nothing (the stream before the cache), the logits of unchanged chunks only
# (what TF Serving and int8 exports get), or those and the conv features of the growing chunk (the default).
MODES = {"off": None, "chunks": False, "features": True}


async def replay_timed(backend: Engine, audio: np.ndarray, mode: str, policy: WindowPolicy) -> tuple[list[str], float]:
    """Return the finals of one replay and the CPU seconds of this process while its decodes ran."""
    reuse_features = MODES[mode]
    cache = StreamCache(reuse_features=reuse_features) if reuse_features is not None else None
    spent_s = 0.0

    async def transcribe(samples: np.ndarray) -> Transcript:
        nonlocal spent_s
        started = time.process_time()
        try:
            return await backend.transcribe(samples, None, wrap_logits=cache.wrap if cache else None)
        finally:
            spent_s += time.process_time() - started

    return await replay(transcribe, audio, policy), spent_s


def export_demo_with_halves(out_dir: Path) -> Path:
    """Write the bundled demo model's weights as a new export (with the feature signatures); return its model dir."""
    return reexport(BUNDLED_MODEL_PATH / "1", out_dir, "demo")


def reexport(version_dir: Path, out_dir: Path, name: str) -> Path:
    """Export the weights of the SavedModel at `version_dir` again with today's `asr export`; return the model dir.

    The serving module tracks the Keras model's weights as one list, in the model's own order, so a fresh model of
    the export's config takes them back one for one.
    """
    import tensorflow as tf

    from model_export.export import export_saved_model
    from wav2vec2 import Wav2Vec2Config, Wav2Vec2ForCTC, Wav2Vec2Processor

    loaded = tf.saved_model.load(str(version_dir))
    model = Wav2Vec2ForCTC(Wav2Vec2Config.from_json_file(version_dir / "assets" / "config.json")).build_weights()
    for variable, value in zip(model.weights, loaded.weights, strict=True):
        variable.assign(value)
    processor = Wav2Vec2Processor.from_pretrained(version_dir / "assets")
    return export_saved_model(model, processor, out_dir, name, 1).parent


def conv_share(model_path: Path, windows_s: tuple[float, ...] = (2.0, 4.0, 6.0, 10.0), repeats: int = 5) -> None:
    """Print the conv feature encoder's share of one decode of a window: what keeping its output can save at most."""
    import statistics

    from engine.model_client import SavedModelClient

    client = SavedModelClient(model_path)
    rng = np.random.default_rng(0)
    for window_s in windows_s:
        audio = (0.1 * rng.standard_normal(int(window_s * 16_000))).astype(np.float32)
        calls = {
            "whole": partial(client.logits_batch, [audio]),
            "conv": partial(client.conv_features, audio, 0),
        }
        timings: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(repeats + 1):  # the first round traces the shapes: not counted
            for name, call in calls.items():
                started = time.process_time()
                call()
                timings[name].append(time.process_time() - started)
        whole_s, conv_s = (statistics.median(timings[name][1:]) for name in ("whole", "conv"))
        print(f"| {window_s:g} s window | whole model {1000 * whole_s:.0f} ms | conv features {1000 * conv_s:.0f} ms "
              f"| share {conv_s / whole_s:.2f} |", flush=True)  # fmt: skip


async def measure(
    model_path: Path, name: str, streams: dict[str, tuple[np.ndarray, str]], agreement: bool, policy: WindowPolicy
) -> None:
    backend = build_engine(Settings(model_path=model_path, model_name=name, log_json=False))
    await backend.start()
    try:
        for stream_name, (audio, truth) in streams.items():
            audio_s = len(audio) / 16_000
            runs = {mode: await replay_timed(backend, audio, mode, policy) for mode in MODES}
            (plain, plain_s), (cached, cached_s) = runs["off"], runs["features"]
            plain_text, cached_text = " ".join(plain), " ".join(cached)
            cost = " | ".join(f"{spent_s / audio_s:.3f}" for _, spent_s in runs.values())
            per_core = " | ".join(f"{audio_s / spent_s:.2f}" for _, spent_s in runs.values())
            row = f"| {name} | {stream_name} | {audio_s:.1f} | {cost} | {plain_s / cached_s:.2f} | {per_core} |"
            if agreement:
                wer = jiwer.wer(plain_text, cached_text) if plain_text else float("nan")
                same = sum(a == b for a, b in zip(plain, cached, strict=False)) / max(len(plain), len(cached), 1)
                row += (
                    f" {1 - wer:.3f} | {same:.2f} ({len(plain)}/{len(cached)}) "
                    f"| {jiwer.wer(truth, plain_text):.3f} | {jiwer.wer(truth, cached_text):.3f} |"
                )
                if plain_text != cached_text:
                    print(f"  without: {plain_text}\n  with:    {cached_text}", file=sys.stderr)
            print(row, flush=True)
    finally:
        await backend.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["demo", "base"], choices=["demo", "base"])
    parser.add_argument(
        "--max-segment-s",
        type=float,
        default=WindowPolicy.max_segment_s,
        help="ASR_STREAM_MAX_SEGMENT_S; the random base model hears no pauses, so its segments run to this cap "
        "(3.5 gives windows of a spoken sentence's length, like the demo model's)",
    )
    args = parser.parse_args(argv)
    affinity = len(os.sched_getaffinity(0))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores ({affinity} usable); "
          f"load {os.getloadavg()}")  # fmt: skip
    print(
        "| model | stream | audio s | CPU s per audio s: no cache | chunks kept | chunks + features "
        "| ratio none/all | streams per core at 1x: no cache | chunks | chunks + features "
        "| word agreement, all vs none | segments equal (none/all) | WER vs truth, none | all |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    streams = fixture_streams()
    policy = WindowPolicy(max_segment_s=args.max_segment_s)
    print(f"window policy: {policy}")
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models:
            if model == "demo":
                asyncio.run(measure(export_demo_with_halves(Path(tmp)), "demo", streams, True, policy))
            else:
                path = export_random_base(Path(tmp))
                conv_share(path / "1")
                asyncio.run(measure(path, "random-base", {"festival": streams["festival"]}, False, policy))
    print(f"load after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
