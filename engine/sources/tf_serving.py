"""The TF Serving source: TensorFlow Serving's `PredictionService/Predict` over one long-lived channel.

The channel is created once and reused; gRPC reconnects it by itself after TF Serving restarts (the
reconnect backoff is capped at one second so a restarted server is found quickly). Calls carry a
deadline, and a call that fails with UNAVAILABLE is retried by gRPC's own retry policy before the
gateway reports 503.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

import grpc
import numpy as np

from engine.errors import BackendError, BackendTimeoutError, BackendUnavailableError, ServiceError
from engine.sources import SourceDescription
from model_export.contract import LOGIT_LENGTH, LOGITS, LOGITS_SIGNATURE, batch_inputs, describe_signature, split_logits
from model_export.serving_api import MODEL_SERVICE, PREDICTION_SERVICE, ServiceStub, message
from model_export.tensor_proto import to_ndarray, to_tensor_proto

if TYPE_CHECKING:
    from service.config import Settings
    from transcription.pipeline import LogitsFn

logger = logging.getLogger(__name__)

# TF Serving's messages come from model_export.serving_api, not `tensorflow-serving-api`: that package requires
# TensorFlow, which a gateway in front of TF Serving does not need (docs/deployment.md, "The slim gateway").
_PredictRequest = message("tensorflow.serving.PredictRequest")
_GetModelStatusRequest = message("tensorflow.serving.GetModelStatusRequest")
_GetModelMetadataRequest = message("tensorflow.serving.GetModelMetadataRequest")
_SignatureDefMap = message("tensorflow.serving.SignatureDefMap")
_AVAILABLE = message("tensorflow.serving.ModelVersionStatus").State.AVAILABLE
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


class TFServingSource:
    """Sends each request's chunks to TF Serving's `logits` signature, a batch per `Predict` (TF Serving may batch
    further with `--enable_batching`); the engine decodes the logits in the gateway.

    The engine reads the served model's assets (vocabulary, frame rate, language model) from `settings.model.path`:
    the directory TF Serving serves, mounted read-only (compose.yaml does).
    """

    kind = "tfserving"

    def __init__(self, settings: Settings) -> None:
        if not settings.tfserving.address:
            raise ValueError("TFServingSource needs settings.tfserving.address")
        self._settings = settings
        self._channel: grpc.aio.Channel | None = None
        self._predict_stub: ServiceStub | None = None
        self._model_stub: ServiceStub | None = None
        # The version TF Serving said answered the last Predict: it loads new versions itself, and responses
        # name what it reports, not what it served when the gateway started.
        self.served_version: int | None = None

    async def start(self) -> None:
        # Created inside the running loop: a grpc.aio channel belongs to the loop that made it.
        self._channel = grpc.aio.insecure_channel(
            self._settings.tfserving.address, options=channel_options(self._settings.tfserving.grpc_max_message_bytes)
        )
        self._predict_stub = ServiceStub(self._channel, PREDICTION_SERVICE)
        self._model_stub = ServiceStub(self._channel, MODEL_SERVICE)
        if not await self.is_ready():
            # Not fatal: TF Serving may start after the gateway; /readyz says so until it does.
            logger.warning("TF Serving at %s is not ready yet", self._settings.tfserving.address)

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()

    def _model_spec(self, request) -> None:
        request.model_spec.name = self._settings.model.name
        if self._settings.model.version is not None:
            request.model_spec.version.value = self._settings.model.version

    async def _logits(self, chunks: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Return each chunk's logits from one `Predict` on the `logits` signature."""
        request = _PredictRequest()
        self._model_spec(request)
        request.model_spec.signature_name = LOGITS_SIGNATURE
        for name, value in batch_inputs(chunks).items():
            request.inputs[name].CopyFrom(to_tensor_proto(value))
        request.output_filter.extend([LOGITS, LOGIT_LENGTH])
        response = await self._call(self._predict_stub.Predict, request, self._settings.tfserving.grpc_timeout_s)
        if response.model_spec.HasField("version"):
            self.served_version = response.model_spec.version.value
        logits = to_ndarray(response.outputs[LOGITS])
        return split_logits(logits, to_ndarray(response.outputs[LOGIT_LENGTH]))

    @contextlib.asynccontextmanager
    async def lane(self) -> AsyncIterator[LogitsFn]:
        if self._predict_stub is None:
            raise BackendUnavailableError("the gateway is still starting")
        # TF Serving queues and batches the Predicts itself; a request's unfinished ones are cancelled with it.
        yield self._logits

    async def is_ready(self) -> bool:
        request = _GetModelStatusRequest()
        self._model_spec(request)
        try:
            response = await self._call(self._model_stub.GetModelStatus, request, _STATUS_TIMEOUT_S)
        except ServiceError:
            return False
        return any(status.state == _AVAILABLE for status in response.model_version_status)

    def feature_halves(self) -> None:
        return None  # the halves' `first_frame` is a scalar, which TF Serving's batching cannot take

    async def describe(self) -> SourceDescription:
        request = _GetModelMetadataRequest(metadata_field=["signature_def"])
        self._model_spec(request)
        response = await self._call(self._predict_stub.GetModelMetadata, request, _STATUS_TIMEOUT_S)
        signature_map = _SignatureDefMap()
        response.metadata["signature_def"].Unpack(signature_map)
        if LOGITS_SIGNATURE not in signature_map.signature_def:
            raise BackendError(f"TF Serving's model has no signature {LOGITS_SIGNATURE!r}")
        inputs, outputs = describe_signature(signature_map.signature_def[LOGITS_SIGNATURE])
        version = response.model_spec.version.value if response.model_spec.HasField("version") else None
        return SourceDescription(response.model_spec.name, version, inputs, outputs)

    async def _call(self, method, request, timeout_s: float):
        address = self._settings.tfserving.address
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
                    f"{self._settings.model.name!r}: {error.details()}"
                ) from error
            raise BackendError(f"TensorFlow Serving failed: {code.name}: {error.details()}") from error
