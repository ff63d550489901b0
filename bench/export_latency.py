"""Latency of the exported `serving_default` signature vs Hugging Face PyTorch on the same weights.

Both sides include pre- and post-processing: ours is one SavedModel call (normalisation, model, greedy CTC,
ids -> text in the graph); HF's is `Wav2Vec2Processor` feature extraction + `Wav2Vec2ForCTC` + argmax +
`processor.batch_decode`. Weights: a random base-960h-shaped model (94 M parameters), written with our
`save_pretrained` and read by transformers' `from_pretrained`.

    python -m bench.export_latency                      # 1/5/10/30 s x batch 1/8 (~6 min on 2 idle cores)
    python -m bench.export_latency --durations 1 5 --batch-sizes 1 --batching

Each case: one untimed call at that shape (first-call costs are what the warmup file removes), then the
median of `--repeats` timed calls; cases of >= 60 s of audio get one cold call, to keep the run to minutes.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tensorflow as tf

from bench.random_checkpoint import random_base_checkpoint
from model_export.export import export_saved_model
from wav2vec2.feature_extractor import pad_batch

SAMPLE_RATE_HZ = 16000


def machine() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores visible; TensorFlow {tf.__version__}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads)"
    )


def timed(fn: Callable[[], object], repeats: int, warm_up: bool = True) -> float:
    """Median wall-clock seconds of `repeats` calls, after one untimed call unless `warm_up` is False."""
    if warm_up:
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def build(workdir: Path) -> tuple[Callable, Callable]:
    """Returns `(ours, hf)`: callables taking a list of 1-D float32 arrays and returning transcripts."""
    import torch
    import transformers

    model, processor, checkpoint = random_base_checkpoint(workdir)
    export_dir = export_saved_model(model, processor, workdir / "models", "asr", 1)
    serving_default = tf.saved_model.load(str(export_dir)).signatures["serving_default"]

    hf_model = transformers.Wav2Vec2ForCTC.from_pretrained(checkpoint).eval()
    hf_processor = transformers.Wav2Vec2Processor.from_pretrained(checkpoint)

    def ours(utterances: list[np.ndarray]) -> list[str]:
        audio, lengths = pad_batch(utterances)
        outputs = serving_default(audio=tf.constant(audio), audio_length=tf.constant(lengths))
        return [t.decode() for t in outputs["transcript"].numpy()]

    def hf(utterances: list[np.ndarray]) -> list[str]:
        inputs = hf_processor(utterances, sampling_rate=SAMPLE_RATE_HZ, return_tensors="pt", padding=True)
        with torch.inference_mode():
            logits = hf_model(inputs.input_values).logits
        return hf_processor.batch_decode(logits.argmax(dim=-1))

    # Same weights, same text: otherwise the timing compares different work.
    probe = [np.random.default_rng(0).standard_normal(SAMPLE_RATE_HZ).astype(np.float32)]
    if ours(probe) != hf(probe):
        raise SystemExit("our SavedModel and HF disagree on the probe utterance: the comparison is void")
    return ours, hf


def latency_table(ours: Callable, hf: Callable, durations: list[float], batch_sizes: list[int], repeats: int) -> None:
    rng = np.random.default_rng(1)
    print(f"{'audio':>7} {'batch':>5} {'ours ms':>9} {'HF ms':>9} {'ours/HF':>8} {'x realtime':>10}")
    for batch_size in batch_sizes:
        for duration_s in durations:
            utterances = [
                (0.1 * rng.standard_normal(int(duration_s * SAMPLE_RATE_HZ))).astype(np.float32)
                for _ in range(batch_size)
            ]
            # Long cases: one cold call; first-call costs are small next to tens of seconds of compute.
            big = duration_s * batch_size >= 60
            t_ours = timed(lambda u=utterances: ours(u), 1 if big else repeats, warm_up=not big)
            t_hf = timed(lambda u=utterances: hf(u), 1 if big else repeats, warm_up=not big)
            speed = duration_s * batch_size / t_ours
            print(
                f"{duration_s:>6.0f}s {batch_size:>5} {1000 * t_ours:>9.0f} {1000 * t_hf:>9.0f} "
                f"{t_ours / t_hf:>8.2f} {speed:>10.1f}",
                flush=True,
            )


def batching_table(ours: Callable, repeats: int) -> None:
    """What TF Serving's batcher would buy: one padded call vs one call per utterance, for mixed lengths."""
    rng = np.random.default_rng(2)
    print("\nbatching (ours): 8 utterances, one padded call vs 8 single calls")
    print(f"{'lengths':>16} {'batched ms':>11} {'singles ms':>11} {'batched/singles':>16}")
    for lengths_s in ((5.0,) * 8, (2.0, 3.0, 4.0, 5.0, 5.0, 6.0, 7.0, 8.0), (1.0,) * 7 + (10.0,)):
        utterances = [(0.1 * rng.standard_normal(int(s * SAMPLE_RATE_HZ))).astype(np.float32) for s in lengths_s]
        t_batch = timed(lambda u=utterances: ours(u), repeats)
        t_single = timed(lambda u=utterances: [ours([x]) for x in u], repeats)
        label = f"{min(lengths_s):.0f}-{max(lengths_s):.0f} s" if min(lengths_s) != max(lengths_s) else "all 5 s"
        print(f"{label:>16} {1000 * t_batch:>11.0f} {1000 * t_single:>11.0f} {t_batch / t_single:>16.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--durations", type=float, nargs="+", default=[1, 5, 10, 30], help="seconds of audio")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batching", action="store_true", help="add the batched-vs-singles table (mixed lengths)")
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as workdir:
        start = time.perf_counter()
        ours, hf = build(Path(workdir))
        print(f"export + load: {time.perf_counter() - start:.0f} s (base architecture, random weights)\n")
        latency_table(ours, hf, args.durations, args.batch_sizes, args.repeats)
        if args.batching:
            batching_table(ours, args.repeats)


if __name__ == "__main__":
    main()
