"""Reloads an exported SavedModel and checks it against the Python model it came from (`asr export --verify`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf

from engine.thread_pools import schedulable_cpus
from model_export.contract import (
    AUDIO,
    AUDIO_LENGTH,
    LOGIT_LENGTH,
    LOGITS,
    LOGITS_SIGNATURE,
    SERVING_SIGNATURE,
    TRANSCRIPT,
)
from model_export.errors import VerificationError
from model_export.precision import INT8
from model_export.warmup import WARMUP_DIR, WARMUP_FILENAME, read_warmup_file, request_inputs
from wav2vec2 import SAMPLE_RATE_HZ
from wav2vec2.model import Wav2Vec2ForCTC
from wav2vec2.processor import Wav2Vec2Processor

logger = logging.getLogger(__name__)

# Largest |SavedModel logit - Python logit| accepted, relative to the largest |logit| of the utterance. Both run
# the same float32 ops; what differs is the batch shape (oneDNN picks other blockings, so other summation
# orders: ~1e-6 relative measured) and TF Serving-style padding, which the masking must make irrelevant.
# 1e-4 is two orders above that noise and far below what any masking bug gives (>1e-2).
LOGIT_RTOL = 1e-4
# A bfloat16 export is checked against the float32 Python model: bfloat16 keeps 8 significant bits, so each
# matmul/conv input is rounded by up to 2^-9 = 0.2% and the errors of ~20 stacked layers add up. Measured relative
# max logit differences (bf16 vs fp32, argmax agreement in brackets): a tiny random test model 1.9% (98.7%),
# the trained demo model 0.9% (99.7%, same WER), the base architecture with random weights 3.1% on 4 s (100%):
# random weights give flat logits, the worst case for a relative measure. 5% is above all of these.
# int8 (dynamic-range: int8 weights, activations quantized per call with one scale per row) rounds each matmul and
# conv input to 8 bits, 2^-8 = 0.4% of its range, plus the weights' own rounding. Measured relative max logit
# differences: the trained demo model 1.0% (argmax agreement 99.6%), the base architecture with random weights
# 4.7% (100%). 10% is above both; what users notice, the greedy tokens, is checked by MIN_INT8_ARGMAX_AGREEMENT.
LOGIT_RTOL_BY_PRECISION = {"float32": LOGIT_RTOL, "bfloat16": 5e-2, INT8: 0.1}
MIN_INT8_ARGMAX_AGREEMENT = 0.99


@dataclass(frozen=True)
class VerificationReport:
    """What `verify_export` compared: utterances, the worst relative logit difference, transcripts."""

    num_utterances: int
    max_relative_logit_diff: float
    transcripts: tuple[str, ...]
    num_warmup_records: int
    precision: str = "float32"
    # Share of valid frames whose argmax (greedy token) equals the Python model's; 1.0 for a float32 export.
    argmax_agreement: float = 1.0


def sample_utterances(seed: int = 0) -> list[np.ndarray]:
    """Returns deterministic 16 kHz test signals of very different lengths (0.1 s to 3 s): chirps in noise."""
    rng = np.random.default_rng(seed)
    utterances = []
    for duration_s, gain in ((3.0, 0.5), (0.1, 0.05), (1.3, 1.0), (0.6, 0.2)):
        t = np.arange(int(duration_s * SAMPLE_RATE_HZ)) / SAMPLE_RATE_HZ
        chirp = np.sin(2 * np.pi * (200 + 1500 * t / duration_s) * t)
        utterances.append((gain * (chirp + 0.3 * rng.standard_normal(t.shape))).astype(np.float32))
    return utterances


def reference_outputs(
    model: Wav2Vec2ForCTC, processor: Wav2Vec2Processor, utterances: list[np.ndarray]
) -> tuple[list[np.ndarray], list[str]]:
    """Returns per-utterance logits and greedy transcripts from the Python model and processor, one call each."""
    logits, transcripts = [], []
    for utterance in utterances:
        batch = processor.pad([utterance])
        row = model(batch.audio, audio_length=batch.audio_length, training=False).numpy()[0]
        logits.append(row)
        transcripts.append(processor.batch_decode([row.argmax(axis=-1)])[0])
    return logits, transcripts


def pad_like_tf_serving(utterances: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Returns `(audio, audio_length)` padded as TF Serving's batcher pads: with the tensor's first element."""
    lengths = np.array([len(u) for u in utterances], dtype=np.int32)
    fill = utterances[0][0] if len(utterances[0]) else 0.0
    audio = np.full((len(utterances), int(lengths.max())), fill, dtype=np.float32)
    for row, utterance in enumerate(utterances):
        audio[row, : len(utterance)] = utterance
    return audio, lengths


@dataclass
class LogitComparison:
    """How one runtime's padded-batch logits compare with the Python model's, row by row."""

    worst_relative_diff: float = 0.0
    agreeing_frames: int = 0
    total_frames: int = 0
    greedy_ids: list[np.ndarray] = field(default_factory=list)  # each row's argmax, for its transcript
    problems: list[str] = field(default_factory=list)

    @property
    def argmax_agreement(self) -> float:
        return self.agreeing_frames / self.total_frames if self.total_frames else 1.0


def compare_logits(
    logits: np.ndarray, logit_length: np.ndarray, reference: list[np.ndarray], rtol: float, label: str
) -> LogitComparison:
    """Returns the comparison of `logits [batch, frames, vocab]` with one Python call per row, within `rtol`."""
    result = LogitComparison()
    for row, expected in enumerate(reference):
        num_frames = int(logit_length[row])
        if num_frames != expected.shape[0]:
            result.problems.append(
                f"{label} utterance {row}: {num_frames} frames, the Python model gives {expected.shape[0]}"
            )
            result.greedy_ids.append(expected.argmax(axis=-1))
            continue
        got = logits[row, :num_frames]
        scale = max(float(np.abs(expected).max(initial=0.0)), 1e-6)
        diff = float(np.abs(got - expected).max(initial=0.0)) / scale
        result.worst_relative_diff = max(result.worst_relative_diff, diff)
        result.greedy_ids.append(got.argmax(axis=-1))
        result.agreeing_frames += int((result.greedy_ids[-1] == expected.argmax(axis=-1)).sum())
        result.total_frames += num_frames
        if diff > rtol:
            result.problems.append(
                f"{label} utterance {row}: logits differ by {diff:.2e} of their range (> {rtol:.0e})"
            )
    return result


def verify_export(
    export_dir: str | Path,
    model: Wav2Vec2ForCTC,
    processor: Wav2Vec2Processor,
    utterances: list[np.ndarray] | None = None,
    precision: str = "float32",
) -> VerificationReport:
    """Returns a report if the export matches the Python model on one padded batch; raises VerificationError.

    `model` is the float32 model whatever the export's `precision`. Checks: `logits` within
    `LOGIT_RTOL_BY_PRECISION[precision]` of one Python call per utterance; `serving_default` transcripts equal to
    the processor's greedy decoding of the Python logits (float32) or of the SavedModel's own logits (bfloat16,
    where a near-tie frame may legitimately pick another token); and every warmup record runs. An int8 export's
    SavedModel is float32 and is checked as such; its TensorFlow Lite model must then keep its logits within
    `LOGIT_RTOL_BY_PRECISION["int8"]` and its greedy tokens agree with float32 on `MIN_INT8_ARGMAX_AGREEMENT` of
    the frames. The report's logit difference and agreement are those of the model the export serves.
    """
    if precision not in LOGIT_RTOL_BY_PRECISION:
        raise ValueError(f"precision {precision!r} is not one of {tuple(LOGIT_RTOL_BY_PRECISION)}")
    saved_model_precision = "float32" if precision == INT8 else precision
    utterances = sample_utterances() if utterances is None else utterances
    loaded = tf.saved_model.load(str(export_dir))
    audio, audio_length = pad_like_tf_serving(utterances)
    ref_logits, ref_transcripts = reference_outputs(model, processor, utterances)
    inputs = {AUDIO: tf.constant(audio), AUDIO_LENGTH: tf.constant(audio_length)}
    outputs = loaded.signatures[SERVING_SIGNATURE](**inputs)
    logit_outputs = loaded.signatures[LOGITS_SIGNATURE](**inputs)
    transcripts = tuple(t.decode("utf-8") for t in outputs[TRANSCRIPT].numpy())
    served = compare_logits(
        logit_outputs[LOGITS].numpy(), logit_outputs[LOGIT_LENGTH].numpy(), ref_logits,
        LOGIT_RTOL_BY_PRECISION[saved_model_precision], "SavedModel",
    )  # fmt: skip
    problems = list(served.problems)
    export_transcripts = list(ref_transcripts)
    if saved_model_precision != "float32":
        export_transcripts = [processor.batch_decode([ids])[0] for ids in served.greedy_ids]
    for row, (got, expected) in enumerate(zip(transcripts, export_transcripts, strict=True)):
        if got != expected:
            problems.append(f"utterance {row}: transcript {got!r} != greedy decoding's {expected!r}")
    if precision == INT8:
        from engine.tflite_client import TFLiteClient

        int8_outputs = TFLiteClient(Path(export_dir), num_threads=schedulable_cpus()).run_logits(
            {AUDIO: audio, AUDIO_LENGTH: audio_length}
        )
        served = compare_logits(
            int8_outputs[LOGITS], int8_outputs[LOGIT_LENGTH], ref_logits, LOGIT_RTOL_BY_PRECISION[INT8], "int8 model"
        )
        problems += served.problems
        if served.argmax_agreement < MIN_INT8_ARGMAX_AGREEMENT:
            problems.append(
                f"int8 model: greedy tokens agree with float32 on {served.argmax_agreement:.4f} of the frames "
                f"(< {MIN_INT8_ARGMAX_AGREEMENT})"
            )
    warmup = read_warmup_file(Path(export_dir) / WARMUP_DIR / WARMUP_FILENAME)
    for index, record in enumerate(warmup):
        signature, inputs = request_inputs(record)
        try:
            loaded.signatures[signature](**inputs)
        except (KeyError, tf.errors.OpError) as error:
            problems.append(f"warmup record {index} ({signature}) fails: {error}")
    if problems:
        raise VerificationError(f"{export_dir} does not match the Python model:\n  " + "\n  ".join(problems))
    report = VerificationReport(
        len(utterances), served.worst_relative_diff, transcripts, len(warmup), precision, served.argmax_agreement
    )
    logger.info(
        "verified %s (%s): %d utterances, max relative logit diff %.2e, argmax agreement %.4f",
        export_dir, precision, len(utterances), report.max_relative_logit_diff, report.argmax_agreement,
    )  # fmt: skip
    return report
