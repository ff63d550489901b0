"""Real-time factor of our Keras wav2vec2 vs Hugging Face's PyTorch model, same base-size weights, 10 s of audio.

Run: `python bench/rtf.py [--seconds 10] [--repeats 5] [--precision bfloat16]`. Prints each variant's median
time, RTF (compute seconds per audio second) and the ratio ours / HF measured in this same run. Timings
alternate between the two models so that load from other processes hits both alike. `--precision bfloat16`
compares like with like: ours under Keras' mixed_bfloat16 policy (graph mode only: XLA's CPU backend runs
bf16 far slower than float32) against HF under `torch.autocast("cpu", torch.bfloat16)`; it pays only on CPUs
with native bf16 (AVX512-BF16, AMX).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402

from wav2vec2 import Wav2Vec2ForCTC  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--precision", choices=["float32", "bfloat16"], default="float32")
    args = parser.parse_args()
    bf16 = args.precision == "bfloat16"

    threads = os.cpu_count() or 1
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    reference = transformers.Wav2Vec2ForCTC(transformers.Wav2Vec2Config()).eval()  # base-960h architecture
    with tempfile.TemporaryDirectory() as directory:
        reference.save_pretrained(directory)
        if bf16:
            keras.mixed_precision.set_global_policy("mixed_bfloat16")
        model = Wav2Vec2ForCTC.from_pretrained(directory)

    samples = int(args.seconds * 16000)
    audio = np.random.default_rng(0).normal(size=(1, samples)).astype(np.float32)
    audio_tf = tf.constant(audio)
    audio_torch = torch.from_numpy(audio)

    spec = tf.TensorSpec([None, None], tf.float32)
    variants = {"ours, tf.function": tf.function(lambda a: model(a, training=False), input_signature=[spec])}
    if not bf16:
        variants["ours, tf.function + XLA"] = tf.function(
            lambda a: model(a, training=False), input_signature=[spec], jit_compile=True
        )

    def run_reference() -> None:
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            reference(audio_torch)

    timings: dict[str, list[float]] = {name: [] for name in [*variants, "HF PyTorch"]}
    for function in variants.values():  # trace and compile outside the timings
        function(audio_tf).numpy()
    run_reference()
    for _ in range(args.repeats):
        for name, function in variants.items():
            start = time.perf_counter()
            function(audio_tf).numpy()
            timings[name].append(time.perf_counter() - start)
        start = time.perf_counter()
        run_reference()
        timings["HF PyTorch"].append(time.perf_counter() - start)

    reference_median = statistics.median(timings["HF PyTorch"])
    print(
        f"machine: {platform.processor() or platform.machine()}, {threads} CPU threads, "
        f"TF {tf.__version__}, torch {torch.__version__}; {args.seconds:g} s audio, {args.repeats} repeats, "
        f"{args.precision}"
    )
    print(f"{'variant':28s} {'median s':>9s} {'RTF':>7s} {'ours/HF':>8s}")
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"{name:28s} {median:9.3f} {median / args.seconds:7.3f} {median / reference_median:8.2f}")


if __name__ == "__main__":
    main()
