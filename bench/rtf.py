"""Real-time factor of our exports (float32, bfloat16, int8) vs HF PyTorch and ONNX Runtime, same weights.

    python -m bench.rtf                         # base architecture, 10 s and 30 s, 3 repeats
    python -m bench.rtf --seconds 10 --repeats 5
    python -m bench.rtf --no-bfloat16           # skip the bfloat16 rows (minutes per call on AVX2-only CPUs)
    python -m bench.rtf --max-call-s 30         # a variant slower than 30 s a call is timed by its first call

Variants, all on one random base-960h-shaped model (94 M parameters) saved once and read by each side: HF PyTorch
float32, HF PyTorch under `torch.autocast("cpu", torch.bfloat16)`, PyTorch dynamic int8
(`torch.ao.quantization.quantize_dynamic` on every `nn.Linear`), ONNX Runtime float32 (the HF model exported with
`torch.onnx.export`) and dynamic int8 (`onnxruntime.quantization.quantize_dynamic`, QInt8 MatMul weights; both
skipped if onnxruntime is not installed), our SavedModel's `logits` signature exported with `--precision float32`
and `bfloat16` (normalisation and masking included, which HF's model call leaves to its processor), and the
`model.tflite` of `--precision int8` run by the gateway's own `TFLiteClient`. Each repeat times every variant once,
in turn, so that load from other processes hits all of them alike; the table gives medians and each one's ratio to
HF PyTorch float32. A variant whose first call takes longer than `--max-call-s` (PyTorch's bfloat16 autocast on a
CPU without native bfloat16: minutes on 30 s of audio) is not repeated: its row is that one call, marked "(1 call)".

It also prints each int8 variant's argmax agreement with its own float32 (the issue asks >= 0.99), and what decides
whether bfloat16 can pay: the CPU's `avx512_bf16` / `amx_bf16` flags (without them oneDNN has no native bfloat16
matmul), and the accuracy of the bfloat16 export against the float32 one on the benchmark audio (relative max logit
difference, argmax agreement).
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from bench.random_checkpoint import random_base_checkpoint
from engine.tflite_client import TFLiteClient
from engine.thread_pools import schedulable_cpus
from model_export.export import export_saved_model

if TYPE_CHECKING:
    import torch

SAMPLE_RATE_HZ = 16000
BF16_FLAGS = ("avx512_bf16", "amx_bf16", "amx_tile", "avx512f", "avx2")


def cpu_description() -> str:
    """Returns the CPU model, its visible cores, and which of BF16_FLAGS it has."""
    name, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    marks = ", ".join(f"{flag} {'yes' if flag in flags else 'NO'}" for flag in BF16_FLAGS)
    return f"{name}, {os.cpu_count()} cores visible; {marks}"


def normalised(audio: np.ndarray) -> np.ndarray:
    """HF's processor normalisation, which HF's model call leaves to it: every variant then does the same work."""
    return ((audio - audio.mean()) / np.sqrt(audio.var() + 1e-7)).astype(np.float32)


def hf_logits(module: torch.nn.Module, audio: np.ndarray, bf16: bool = False) -> np.ndarray:
    """Returns a transformers model's logits `[frames, vocab]` for `audio` `[1, samples]`, optionally autocast."""
    import torch

    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        return module(torch.from_numpy(normalised(audio))).logits.float().numpy()[0]


def signature_logits(signature: Callable[..., dict[str, tf.Tensor]], audio: np.ndarray) -> np.ndarray:
    """Returns an export's `logits` signature output `[frames, vocab]` for `audio` `[1, samples]` (it normalises)."""
    length = tf.constant([audio.shape[1]], tf.int32)
    return signature(audio=tf.constant(audio), audio_length=length)["logits"].numpy()[0]


def build_variants(
    workdir: Path, max_samples: int, bfloat16: bool = True
) -> tuple[dict[str, Callable[[np.ndarray], np.ndarray]], str]:
    """Returns `{name: audio [1, samples] -> logits [frames, vocab]}` for every variant, and a versions line."""
    import torch
    import transformers

    model, processor, checkpoint = random_base_checkpoint(workdir)
    variants: dict[str, Callable[[np.ndarray], np.ndarray]] = {}

    hf_model = transformers.Wav2Vec2ForCTC.from_pretrained(checkpoint).eval()

    hf_int8 = torch.ao.quantization.quantize_dynamic(copy.deepcopy(hf_model), {torch.nn.Linear}, dtype=torch.qint8)

    def hf(audio: np.ndarray, bf16: bool = False, module: torch.nn.Module = hf_model) -> np.ndarray:
        return hf_logits(module, audio, bf16)

    variants["HF PyTorch fp32"] = hf
    if bfloat16:
        variants["HF PyTorch bf16 autocast"] = lambda audio: hf(audio, bf16=True)
    variants["PyTorch dynamic int8"] = lambda audio: hf(audio, module=hf_int8)
    versions = f"TensorFlow {tf.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads)"

    try:
        import onnxruntime
    except ImportError:
        onnxruntime = None
    if onnxruntime is not None:
        onnx_path = workdir / "model.onnx"
        example = torch.zeros(1, max_samples)
        torch.onnx.export(
            hf_model, (example,), str(onnx_path), input_names=["audio"], output_names=["logits"],
            dynamic_axes={"audio": {1: "samples"}, "logits": {1: "frames"}}, dynamo=False,
        )  # fmt: skip
        from onnxruntime.quantization import QuantType, quantize_dynamic

        onnx_int8_path = workdir / "model-int8.onnx"
        # MatMul only: its Conv quantizer needs constant weights, and the weight-normed positional conv has none.
        quantize_dynamic(
            str(onnx_path), str(onnx_int8_path), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"]
        )
        for name, path in (("ONNX Runtime fp32", onnx_path), ("ONNX Runtime dynamic int8", onnx_int8_path)):
            session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])

            def ort(audio: np.ndarray, session=session) -> np.ndarray:  # noqa: ANN001
                return session.run(["logits"], {"audio": normalised(audio)})[0][0]

            variants[name] = ort
        versions += f", onnxruntime {onnxruntime.__version__}"

    precisions = ("float32", "bfloat16", "int8") if bfloat16 else ("float32", "int8")
    for version, precision in enumerate(precisions, start=1):
        path = export_saved_model(model, processor, workdir / "models", "asr", version, precision)
        if precision == "int8":
            client = TFLiteClient(path, num_threads=schedulable_cpus())
            variants["ours int8"] = lambda audio, client=client: client.logits_batch([audio[0]])[0]
            continue
        signature = tf.saved_model.load(str(path)).signatures["logits"]
        variants[f"ours {precision}"] = lambda audio, signature=signature: signature_logits(signature, audio)
    return variants, versions


def compare_logits(reference: np.ndarray, other: np.ndarray) -> str:
    relative = float(np.abs(other - reference).max() / np.abs(reference).max())
    agreement = float((other.argmax(-1) == reference.argmax(-1)).mean())
    return f"relative max diff {relative:.2e}, argmax agreement {agreement:.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, nargs="+", default=[10.0, 30.0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-call-s", type=float, default=60.0, help="repeat only variants faster than this")
    parser.add_argument("--no-bfloat16", action="store_true", help="skip the bfloat16 variants")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        variants, versions = build_variants(
            Path(directory), int(max(args.seconds) * SAMPLE_RATE_HZ), bfloat16=not args.no_bfloat16
        )
        print(f"machine: {cpu_description()}")
        print(f"{versions}; base architecture, random weights, batch 1, median of {args.repeats}")
        rng = np.random.default_rng(0)
        for seconds in args.seconds:
            audio = (0.1 * rng.standard_normal((1, int(seconds * SAMPLE_RATE_HZ)))).astype(np.float32)
            outputs, first_call_s = {}, {}
            for name, variant in variants.items():  # first calls: untimed, unless too slow to repeat
                start = time.perf_counter()
                outputs[name] = variant(audio)
                first_call_s[name] = time.perf_counter() - start
            repeated = [name for name in variants if first_call_s[name] <= args.max_call_s]
            timings = {name: [] if name in repeated else [first_call_s[name]] for name in variants}
            for _ in range(args.repeats):
                for name in repeated:
                    start = time.perf_counter()
                    variants[name](audio)
                    timings[name].append(time.perf_counter() - start)
            reference = statistics.median(timings["HF PyTorch fp32"])
            print(f"\n{seconds:g} s of audio")
            print(f"{'variant':26s} {'median s':>9s} {'RTF':>7s} {'/ HF fp32':>10s}")
            for name, values in timings.items():
                median = statistics.median(values)
                note = "" if name in repeated else "  (1 call)"
                print(f"{name:26s} {median:9.3f} {median / seconds:7.3f} {median / reference:10.2f}{note}", flush=True)
            for reference_name, other in (
                ("ours float32", "ours bfloat16"),
                ("ours float32", "ours int8"),
                ("HF PyTorch fp32", "ours float32"),
                ("HF PyTorch fp32", "PyTorch dynamic int8"),
                ("HF PyTorch fp32", "ONNX Runtime dynamic int8"),
            ):
                if other in outputs:
                    print(f"{other} vs {reference_name}: {compare_logits(outputs[reference_name], outputs[other])}")


if __name__ == "__main__":
    main()
