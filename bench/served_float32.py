"""float32 as `asr serve` runs it (oneDNN's weight cache on) against HF PyTorch fp32, same weights, interleaved.

    python -m bench.served_float32                       # 10 s and 30 s of audio, 7 repeats
    python -m bench.served_float32 --no-weight-cache     # the same, with TensorFlow's default

`asr serve`, `asr wyoming` and `asr transcribe` set `TF_ONEDNN_ASSUME_FROZEN_WEIGHTS=1` before TensorFlow loads
(cli/tf_setup.py). `bench.rtf` cannot: it exports in its own process, and with the variable set an eager convolution
keeps the first filter it saw. Here the random base-architecture model is saved and exported by a child process
(`--export-to DIR`), and this process only loads the SavedModel, as the gateway does, and HF's checkpoint.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cli.tf_setup import FROZEN_WEIGHTS_VARIABLE

SAMPLE_RATE_HZ = 16000


def export_to(directory: Path) -> None:
    from bench.random_checkpoint import random_base_checkpoint
    from model_export.export import export_saved_model

    model, processor, _ = random_base_checkpoint(directory)
    export_saved_model(model, processor, directory / "models", "asr", 1, "float32")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, nargs="+", default=[10.0, 30.0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-weight-cache", action="store_true", help="leave TensorFlow's default (no cache)")
    parser.add_argument("--export-to", type=Path, help=argparse.SUPPRESS)  # the child process's job
    args = parser.parse_args()
    if args.export_to:
        export_to(args.export_to)
        return

    with tempfile.TemporaryDirectory() as directory:
        subprocess.run([sys.executable, "-m", "bench.served_float32", "--export-to", directory], check=True)
        if not args.no_weight_cache:
            os.environ[FROZEN_WEIGHTS_VARIABLE] = "1"  # before TensorFlow loads, as cli.tf_setup sets it
        import numpy as np
        import tensorflow as tf
        import torch
        import transformers

        from bench.rtf import cpu_description, hf_logits, signature_logits

        hf_model = transformers.Wav2Vec2ForCTC.from_pretrained(Path(directory) / "checkpoint").eval()
        signature = tf.saved_model.load(str(Path(directory) / "models" / "asr" / "1")).signatures["logits"]

        def hf(audio: np.ndarray) -> np.ndarray:
            return hf_logits(hf_model, audio)

        def ours(audio: np.ndarray) -> np.ndarray:
            return signature_logits(signature, audio)

        cache = "off" if args.no_weight_cache else "on"
        print(f"machine: {cpu_description()}")
        print(f"TensorFlow {tf.__version__}, torch {torch.__version__}; base, random weights, batch 1, oneDNN weight "
              f"cache {cache}, median of {args.repeats}")  # fmt: skip
        rng = np.random.default_rng(0)
        for seconds in args.seconds:
            audio = (0.1 * rng.standard_normal((1, int(seconds * SAMPLE_RATE_HZ)))).astype(np.float32)
            reference, output = hf(audio), ours(audio)  # first calls: untimed
            timings: dict[str, list[float]] = {"HF PyTorch fp32": [], "ours float32 (served)": []}
            for _ in range(args.repeats):
                for name, variant in zip(timings, (hf, ours), strict=True):
                    start = time.perf_counter()
                    variant(audio)
                    timings[name].append(time.perf_counter() - start)
            hf_s, ours_s = (statistics.median(values) for values in timings.values())
            relative = float(np.abs(output - reference).max() / np.abs(reference).max())
            agreement = float((output.argmax(-1) == reference.argmax(-1)).mean())
            print(f"{seconds:g} s: HF {hf_s:.3f} s, ours {ours_s:.3f} s, ours / HF {ours_s / hf_s:.2f}; "
                  f"max rel. logit diff {relative:.1e}, argmax agreement {agreement:.4f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
