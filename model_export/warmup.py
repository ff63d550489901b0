"""`assets.extra/tf_serving_warmup_requests`: requests TF Serving replays after loading, before it serves.

Without them the first real requests after a (re)load pay graph initialisation and oneDNN kernel creation
(TFS#385, #733). The file is a TFRecord of `PredictionLog` (at most 1000 records, read by TF Serving's
`saved_model_warmup`); we send each signature at least once, at two batch sizes and at the rates a WAV upload
most often has, so every branch a request can take has run once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

from model_export.contract import (
    AUDIO,
    AUDIO_LENGTH,
    LOGITS_SIGNATURE,
    SERVING_SIGNATURE,
    TRANSCRIBE_WAV_SIGNATURE,
    WAV,
)
from model_export.resample import TARGET_RATE_HZ

WARMUP_FILENAME = "tf_serving_warmup_requests"
WARMUP_DIR = "assets.extra"
MAX_WARMUP_RECORDS = 1000  # TF Serving refuses to load a model whose warmup file holds more

# (batch size, seconds) of the audio-tensor warmups; lengths within a batch differ to exercise the masking.
_AUDIO_BATCHES = ((1, 1.0), (4, 2.0))
# (sample rate, channels) of the WAV warmups: 16 kHz mono, telephony stereo, CD mono.
_WAV_FORMATS = ((16000, 1), (8000, 2), (44100, 1))


def _audio_batch(batch_size: int, duration_s: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    num_samples = int(duration_s * TARGET_RATE_HZ)
    audio = (0.1 * rng.standard_normal((batch_size, num_samples))).astype(np.float32)
    lengths = np.linspace(num_samples, num_samples // 2, batch_size).astype(np.int32)
    return audio, lengths


def _wav_bytes(rate_hz: int, channels: int, duration_s: float, rng: np.random.Generator) -> bytes:
    audio = (0.1 * rng.standard_normal((int(duration_s * rate_hz), channels))).astype(np.float32)
    return tf.audio.encode_wav(audio, rate_hz).numpy()


def _predict_log(model_name: str, signature: str, inputs: dict[str, np.ndarray]) -> prediction_log_pb2.PredictionLog:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature
    for key, value in inputs.items():
        request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
    return prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))


def build_warmup_requests(
    model_name: str, seed: int = 0, logits_only: bool = False
) -> list[prediction_log_pb2.PredictionLog]:
    """Returns the warmup records: every signature (or `logits` only), two batch shapes, three WAV formats.

    `logits_only` is for int8 exports: TF Serving's `--prefer_tflite_model` serves only the TensorFlow Lite
    model's `logits` signature, and a warmup record for a signature the model lacks fails the whole load.
    """
    rng = np.random.default_rng(seed)
    records = []
    signatures = (LOGITS_SIGNATURE,) if logits_only else (SERVING_SIGNATURE, LOGITS_SIGNATURE)
    for batch_size, duration_s in _AUDIO_BATCHES:
        audio, lengths = _audio_batch(batch_size, duration_s, rng)
        for signature in signatures:
            records.append(_predict_log(model_name, signature, {AUDIO: audio, AUDIO_LENGTH: lengths}))
    if logits_only:
        return records
    wavs = np.array([_wav_bytes(rate, channels, 1.0, rng) for rate, channels in _WAV_FORMATS], dtype=object)
    records.append(_predict_log(model_name, TRANSCRIBE_WAV_SIGNATURE, {WAV: wavs}))
    return records


def write_warmup_file(saved_model_dir: str | Path, model_name: str, logits_only: bool = False) -> Path:
    """Writes `assets.extra/tf_serving_warmup_requests` into a SavedModel directory and returns its path."""
    path = Path(saved_model_dir) / WARMUP_DIR / WARMUP_FILENAME
    path.parent.mkdir(parents=True, exist_ok=True)
    records = build_warmup_requests(model_name, logits_only=logits_only)
    if len(records) > MAX_WARMUP_RECORDS:
        raise ValueError(f"{len(records)} warmup records; TF Serving accepts at most {MAX_WARMUP_RECORDS}")
    with tf.io.TFRecordWriter(str(path)) as writer:
        for record in records:
            writer.write(record.SerializeToString())
    return path


def read_warmup_file(path: str | Path) -> list[prediction_log_pb2.PredictionLog]:
    """Returns the `PredictionLog` records of a warmup file (as TF Serving parses them)."""
    records = []
    for serialized in tf.data.TFRecordDataset(str(path)).as_numpy_iterator():
        records.append(prediction_log_pb2.PredictionLog.FromString(serialized))
    return records


def request_inputs(record: prediction_log_pb2.PredictionLog) -> tuple[str, dict[str, tf.Tensor]]:
    """Returns `(signature name, input tensors)` of a warmup record, to replay it on a loaded SavedModel."""
    request = record.predict_log.request
    inputs = {key: tf.constant(tf.make_ndarray(proto)) for key, proto in request.inputs.items()}
    return request.model_spec.signature_name, inputs
