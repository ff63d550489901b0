"""The gRPC backend: TensorFlow Serving's `PredictionService/Predict` over one long-lived channel.

The channel is created once and reused; gRPC reconnects it by itself after TF Serving restarts (the
reconnect backoff is capped at one second so a restarted server is found quickly). Calls carry a
deadline, and a call that fails with UNAVAILABLE is retried by gRPC's own retry policy before the
gateway reports 503.
"""

from __future__ import annotations

import asyncio
import json
import logging

import grpc
import numpy as np
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from ctc_decoding import LanguageModelError, LexiconBeamDecoder
from service.core.config import MODEL_SAMPLE_RATE_HZ, Settings
from service.core.errors import BackendError, BackendTimeoutError, BackendUnavailableError, ServiceError
from service.language_model import LOGITS_SIGNATURE, load_decoder
from service.savedmodel import GREEDY_DECODER, ModelInfo, describe_signature, pad_batch

logger = logging.getLogger(__name__)

_AVAILABLE = get_model_status_pb2.ModelVersionStatus.State.AVAILABLE
_STATUS_TIMEOUT_S = 2.0

# gRPC's built-in retry (A6 design): a call that fails with UNAVAILABLE before any response is re-sent.
_RETRY_SERVICE_CONFIG = {
    "methodConfig": [
        {
            "name": [
                {"service": "tensorflow.serving.PredictionService"},
                {"service": "tensorflow.serving.ModelService"},
            ],
            "retryPolicy": {
                "maxAttempts": 3,
                "initialBackoff": "0.1s",
                "maxBackoff": "0.5s",
                "backoffMultiplier": 2,
                "retryableStatusCodes": ["UNAVAILABLE"],
            },
        }
    ]
}


def channel_options(max_message_bytes: int) -> list[tuple[str, object]]:
    """Return the channel options the gateway (and anyone talking to TF Serving for it) should use."""
    return [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.enable_retries", 1),
        ("grpc.service_config", json.dumps(_RETRY_SERVICE_CONFIG)),
        ("grpc.initial_reconnect_backoff_ms", 100),
        ("grpc.min_reconnect_backoff_ms", 100),
        ("grpc.max_reconnect_backoff_ms", 1000),
    ]


def float_tensor_proto(array: np.ndarray) -> tensor_pb2.TensorProto:
    """Return `array` as a TensorProto with the raw bytes in `tensor_content` (no per-element encoding)."""
    dtype = {np.dtype(np.float32): types_pb2.DT_FLOAT, np.dtype(np.int32): types_pb2.DT_INT32}[array.dtype]
    return tensor_pb2.TensorProto(
        dtype=dtype,
        tensor_shape=tensor_shape_pb2.TensorShapeProto(
            dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=size) for size in array.shape]
        ),
        tensor_content=np.ascontiguousarray(array).tobytes(),
    )


class TFServingBackend:
    """Sends each utterance to TF Serving (which batches server-side with `--enable_batching`).

    With a language model configured, it asks for the `logits` signature and decodes them in the gateway.
    """

    kind = "tfserving"

    def __init__(self, settings: Settings) -> None:
        if not settings.tfserving_address:
            raise ValueError("TFServingBackend needs settings.tfserving_address")
        self._settings = settings
        self._channel: grpc.aio.Channel | None = None
        self._predict_stub: prediction_service_pb2_grpc.PredictionServiceStub | None = None
        self._model_stub: model_service_pb2_grpc.ModelServiceStub | None = None
        self._in_flight = 0
        self._decoder: LexiconBeamDecoder | None = None

    @property
    def _signature_name(self) -> str:
        return LOGITS_SIGNATURE if self._decoder else self._settings.signature_name

    async def start(self) -> None:
        self._decoder = await asyncio.to_thread(load_decoder, self._settings)
        # Created inside the running loop: a grpc.aio channel belongs to the loop that made it.
        self._channel = grpc.aio.insecure_channel(
            self._settings.tfserving_address, options=channel_options(self._settings.grpc_max_message_bytes)
        )
        self._predict_stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        self._model_stub = model_service_pb2_grpc.ModelServiceStub(self._channel)
        if not await self.is_ready():
            # Not fatal: TF Serving may start after the gateway; /readyz says so until it does.
            logger.warning("TF Serving at %s is not ready yet", self._settings.tfserving_address)

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()

    def _model_spec(self, request) -> None:
        request.model_spec.name = self._settings.model_name
        if self._settings.model_version is not None:
            request.model_spec.version.value = self._settings.model_version

    async def transcribe(self, samples: np.ndarray) -> str:
        audio, audio_length = pad_batch([samples])
        request = predict_pb2.PredictRequest()
        self._model_spec(request)
        request.model_spec.signature_name = self._signature_name
        request.inputs["audio"].CopyFrom(float_tensor_proto(audio))
        request.inputs["audio_length"].CopyFrom(float_tensor_proto(audio_length))
        request.output_filter.extend(["logits", "logit_length"] if self._decoder else ["transcript"])
        self._in_flight += 1
        try:
            response = await self._call(self._predict_stub.Predict, request, self._settings.grpc_timeout_s)
            if self._decoder is None:
                return response.outputs["transcript"].string_val[0].decode("utf-8")
            logits = tf.make_ndarray(response.outputs["logits"])
            logit_length = tf.make_ndarray(response.outputs["logit_length"])
            try:
                [text] = await asyncio.to_thread(self._decoder.decode_logits, logits, logit_length)
            except LanguageModelError as error:
                raise BackendError(f"TF Serving's model does not fit the language model: {error}") from error
            return text
        finally:
            self._in_flight -= 1

    async def is_ready(self) -> bool:
        request = get_model_status_pb2.GetModelStatusRequest()
        self._model_spec(request)
        try:
            response = await self._call(self._model_stub.GetModelStatus, request, _STATUS_TIMEOUT_S)
        except ServiceError:
            return False
        return any(status.state == _AVAILABLE for status in response.model_version_status)

    async def model_info(self) -> ModelInfo:
        request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        self._model_spec(request)
        response = await self._call(self._predict_stub.GetModelMetadata, request, _STATUS_TIMEOUT_S)
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        response.metadata["signature_def"].Unpack(signature_map)
        signature_name = self._signature_name
        if signature_name not in signature_map.signature_def:
            raise BackendError(f"TF Serving's model has no signature {signature_name!r}")
        inputs, outputs = describe_signature(signature_map.signature_def[signature_name])
        return ModelInfo(
            name=response.model_spec.name,
            version=response.model_spec.version.value if response.model_spec.HasField("version") else None,
            signature_name=signature_name,
            inputs=inputs,
            outputs=outputs,
            sample_rate_hz=MODEL_SAMPLE_RATE_HZ,
            vocab=None,  # TF Serving cannot serve assets; the vocabulary stays inside its graph
            decoder=self._decoder.describe() if self._decoder else GREEDY_DECODER,
        )

    async def _call(self, method, request, timeout_s: float):
        address = self._settings.tfserving_address
        try:
            return await method(request, timeout=timeout_s)
        except grpc.aio.AioRpcError as error:
            code = error.code()
            if code == grpc.StatusCode.UNAVAILABLE:
                raise BackendUnavailableError(
                    f"TensorFlow Serving at {address} is unavailable: {error.details()}"
                ) from error
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise BackendTimeoutError(
                    f"TensorFlow Serving at {address} did not answer within {timeout_s:g} s"
                ) from error
            if code == grpc.StatusCode.NOT_FOUND:
                raise BackendUnavailableError(
                    f"TensorFlow Serving at {address} does not serve model "
                    f"{self._settings.model_name!r}: {error.details()}"
                ) from error
            raise BackendError(f"TensorFlow Serving failed: {code.name}: {error.details()}") from error

    @property
    def queue_depth(self) -> int:
        return self._in_flight
