"""A test double for TensorFlow Serving: a real gRPC server speaking TF Serving's own API over a SavedModel.

This is NOT TensorFlow Serving, and not for users (it lives in tests/, outside the installed packages).
The `tensorflow_model_server` binary (and its Docker image) cannot be
installed on these machines, so this module stands in for it wherever a test or a local topology needs
one: it implements `tensorflow.serving.PredictionService` (`Predict`, `GetModelMetadata`) and
`tensorflow.serving.ModelService` (`GetModelStatus`) from the official `tensorflow_serving.apis` protos,
and runs the SavedModel with TensorFlow in this process. A client cannot tell it from the real server
for those three RPCs; everything else (batching, version policies, config reloads, REST, other RPCs)
is absent.

Like the real server it takes a model base path holding numbered version directories and serves the
highest one:

    python -m tests.support.tfserving_standin --model-base-path models/wav2vec2 --model-name wav2vec2 --port 8500

or, as `--model_config_file` gives TF Serving, a model config file (docker/models.config) listing several models
by name and base path, each served at its highest version (the version policies are not read):

    python -m tests.support.tfserving_standin --model-config-file docker/models.config --port 8500

`--prefer-tflite-model` does what TF Serving's `--prefer_tflite_model` does with an int8 export
(`asr export --precision int8`): it serves `model.tflite` instead of the SavedModel, with the flatbuffer's own
signatures only (TF Serving's `TfLiteSession::Create` copies each TFLite SignatureDef under its key) and no
request checks beyond the inputs' names (TensorFlow Lite has none).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from concurrent import futures
from pathlib import Path

import grpc
import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from model_export.contract import SERVING_SIGNATURE, read_signature_defs, resolve_version_dir
from model_export.serving_config import read_model_config_list

logger = logging.getLogger(__name__)

_MAX_MESSAGE_BYTES = 256 * 1024 * 1024


class _TFLiteSignatures:
    """A TensorFlow Lite model's signatures as `loaded.signatures` offers a SavedModel's: name -> callable."""

    def __init__(self, tflite_path: Path) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self._interpreter = Interpreter(model_path=str(tflite_path))
        self._lock = threading.Lock()  # one interpreter, one call at a time (TF Serving pools interpreters)
        self.signature_defs = {
            key: self._signature_def(self._interpreter.get_signature_runner(key))
            for key in self._interpreter.get_signature_list()
        }

    @staticmethod
    def _signature_def(runner) -> meta_graph_pb2.SignatureDef:  # noqa: ANN001 - a LiteRT SignatureRunner
        signature = meta_graph_pb2.SignatureDef(method_name="tensorflow/serving/predict")
        for details, tensors in ((runner.get_input_details(), signature.inputs),
                                 (runner.get_output_details(), signature.outputs)):  # fmt: skip
            for name, detail in details.items():
                info = tensors[name]
                info.name = name
                info.dtype = tf.as_dtype(detail["dtype"]).as_datatype_enum
                for size in detail["shape_signature"]:
                    info.tensor_shape.dim.add(size=int(size))
        return signature

    def __contains__(self, name: str) -> bool:
        return name in self.signature_defs

    def __getitem__(self, name: str):  # noqa: ANN204 - returns the signature's callable
        runner = self._interpreter.get_signature_runner(name)

        def run(**inputs: tf.Tensor) -> dict[str, np.ndarray]:
            with self._lock:
                return {
                    key: np.copy(value) for key, value in runner(**{k: v.numpy() for k, v in inputs.items()}).items()
                }

        return run


class _ServedModel:
    """One loaded SavedModel version and its signatures, as TF Serving would hold it."""

    def __init__(self, model_base_path: Path, model_name: str, prefer_tflite_model: bool = False) -> None:
        version_dir = resolve_version_dir(model_base_path)
        self.name = model_name
        self.version = version_dir.version
        if prefer_tflite_model and version_dir.tflite_model is not None:
            self.signatures = _TFLiteSignatures(version_dir.tflite_model)
            self.signature_defs = self.signatures.signature_defs
        else:
            self.signature_defs = read_signature_defs(version_dir.path)
            self.signatures = tf.saved_model.load(str(version_dir.path)).signatures

    def check_spec(self, model_spec, context: grpc.ServicerContext) -> None:
        """Abort the call the way TF Serving does when the request names another model or version."""
        if model_spec.name != self.name:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Servable not found for request: Latest({model_spec.name})")
        if model_spec.HasField("version") and model_spec.version.value != self.version:
            context.abort(
                grpc.StatusCode.NOT_FOUND,
                f"Servable not found for request: Specific({model_spec.name}, {model_spec.version.value})",
            )

    def fill_spec(self, model_spec, signature_name: str = "") -> None:
        model_spec.name = self.name
        model_spec.version.value = self.version
        if signature_name:
            model_spec.signature_name = signature_name


class _ServedModels:
    """The served models by name: the one a request's model_spec names, or NOT_FOUND as TF Serving answers."""

    def __init__(self, models: list[_ServedModel]) -> None:
        self._by_name = {model.name: model for model in models}

    def __call__(self, model_spec, context: grpc.ServicerContext) -> _ServedModel:
        model = self._by_name.get(model_spec.name)
        if model is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Servable not found for request: Latest({model_spec.name})")
        model.check_spec(model_spec, context)
        return model


class PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
    """`Predict` and `GetModelMetadata` over the served SavedModels."""

    def __init__(self, models: _ServedModels) -> None:
        self._models = models

    def Predict(self, request: predict_pb2.PredictRequest, context: grpc.ServicerContext):  # noqa: N802
        model = self._models(request.model_spec, context)
        signature_name = request.model_spec.signature_name or SERVING_SIGNATURE
        if signature_name not in model.signatures:
            context.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                f'Serving signature name: "{signature_name}" not found in signature def',
            )
        signature = model.signatures[signature_name]
        expected = set(model.signature_defs[signature_name].inputs)
        if set(request.inputs) != expected:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"input keys {sorted(request.inputs)} do not match signature inputs {sorted(expected)}",
            )
        inputs = {name: tf.constant(tf.make_ndarray(proto)) for name, proto in request.inputs.items()}
        try:
            outputs = signature(**inputs)
        except (tf.errors.InvalidArgumentError, TypeError, ValueError) as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        wanted = set(request.output_filter) or set(outputs)
        response = predict_pb2.PredictResponse()
        model.fill_spec(response.model_spec, signature_name)
        for name in wanted:
            if name not in outputs:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"output tensor alias not found: {name}")
            response.outputs[name].CopyFrom(tf.make_tensor_proto(np.asarray(outputs[name])))
        return response

    def GetModelMetadata(self, request, context: grpc.ServicerContext):  # noqa: N802
        model = self._models(request.model_spec, context)
        if list(request.metadata_field) != ["signature_def"]:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "Metadata field signature_def is required")
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        model.fill_spec(response.model_spec)
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        for name, signature_def in model.signature_defs.items():
            signature_map.signature_def[name].CopyFrom(signature_def)
        response.metadata["signature_def"].Pack(signature_map)
        return response


class ModelStatusServicer(model_service_pb2_grpc.ModelServiceServicer):
    """`GetModelStatus`: each served version is AVAILABLE from the moment the server listens."""

    def __init__(self, models: _ServedModels) -> None:
        self._models = models

    def GetModelStatus(self, request, context: grpc.ServicerContext):  # noqa: N802
        model = self._models(request.model_spec, context)
        return get_model_status_pb2.GetModelStatusResponse(
            model_version_status=[
                get_model_status_pb2.ModelVersionStatus(
                    version=model.version,
                    state=get_model_status_pb2.ModelVersionStatus.State.AVAILABLE,
                )
            ]
        )


class StandInServer:
    """A running stand-in: `port` is the bound port (useful with port 0); `stop()` shuts it down.

    It serves `model_name` from `model_base_path`, or every model `model_config_file` lists (TF Serving's
    `--model_config_file`, read with the official `ModelServerConfig` message as the gateway reads it).
    """

    def __init__(
        self,
        model_base_path: Path | None = None,
        model_name: str | None = None,
        port: int = 0,
        host: str = "127.0.0.1",
        prefer_tflite_model: bool = False,
        model_config_file: Path | None = None,
    ) -> None:
        if model_config_file is not None:
            listed = [(model.name, model.base_path) for model in read_model_config_list(Path(model_config_file))]
        elif model_base_path is not None and model_name is not None:
            listed = [(model_name, Path(model_base_path))]
        else:
            raise ValueError("give model_base_path and model_name, or model_config_file")
        served = [_ServedModel(base_path, name, prefer_tflite_model) for name, base_path in listed]
        models = _ServedModels(served)
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="tfserving-standin"),
            options=[
                ("grpc.max_send_message_length", _MAX_MESSAGE_BYTES),
                ("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
            ],
        )
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(PredictionServicer(models), self._server)
        model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelStatusServicer(models), self._server)
        self.port = self._server.add_insecure_port(f"{host}:{port}")
        if self.port == 0:
            raise OSError(f"cannot bind {host}:{port}")
        self.address = f"{host}:{self.port}"
        self.model_version = served[0].version
        self._server.start()
        for model in served:
            logger.info("TF Serving stand-in serving %s v%d on %s", model.name, model.version, self.address)

    def stop(self, grace_s: float | None = None) -> None:
        self._server.stop(grace_s).wait()

    def wait(self) -> None:
        self._server.wait_for_termination()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.tfserving_standin",
        description="Stand-in for tensorflow_model_server (gRPC Predict, GetModelMetadata, GetModelStatus).",
    )
    parser.add_argument("--model-base-path", type=Path, help="dir with numbered versions")
    parser.add_argument("--model-name")
    parser.add_argument("--model-config-file", type=Path, help="models by name and base path (ModelServerConfig)")
    parser.add_argument("--port", type=int, default=8500, help="gRPC port (TF Serving's default: 8500)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--prefer-tflite-model", action="store_true", help="serve model.tflite if the version has one")
    args = parser.parse_args(argv)
    if (args.model_config_file is None) == (args.model_base_path is None or args.model_name is None):
        parser.error("give --model-base-path and --model-name, or --model-config-file")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = StandInServer(
        args.model_base_path, args.model_name, args.port, args.host, args.prefer_tflite_model, args.model_config_file
    )
    stopped = threading.Event()

    def shut_down(signum, frame) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, shut_down)
    signal.signal(signal.SIGINT, shut_down)
    stopped.wait()
    server.stop(grace_s=2.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
