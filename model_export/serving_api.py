"""TensorFlow Serving's gRPC API, its services and messages, without TensorFlow.

The `tensorflow-serving-api` package requires `tensorflow` (~1.8 GB) because its generated modules import
TensorFlow's protos (`tensorflow.core.framework.tensor_pb2`...). A gateway in front of TF Serving needs the
messages, not TensorFlow, so it reads them here: `serving_api.binpb` is the FileDescriptorSet the installed
`tensorflow-serving-api` registers (written by `python -m model_export.serving_api_source`, checked against the
installed package by the tests), loaded into a private descriptor pool so it never collides with TensorFlow's
own registrations when both are installed. Same descriptors, same wire bytes: the TF Serving stand-in, built on
the official modules, answers these messages.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

DESCRIPTOR_SET_FILE = Path(__file__).with_name("serving_api.binpb")

PREDICTION_SERVICE = "tensorflow.serving.PredictionService"
MODEL_SERVICE = "tensorflow.serving.ModelService"

__all__ = [
    "DESCRIPTOR_SET_FILE",
    "MODEL_SERVICE",
    "PREDICTION_SERVICE",
    "ServiceStub",
    "data_type",
    "message",
]


@cache
def _pool() -> descriptor_pool.DescriptorPool:
    descriptor_set = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR_SET_FILE.read_bytes())
    pool = descriptor_pool.DescriptorPool()
    for file_proto in descriptor_set.file:  # dependencies first, as serving_api_source writes them
        pool.Add(file_proto)
    return pool


@cache
def message(full_name: str) -> type[Any]:
    """Return the message class named `full_name`, e.g. `message("tensorflow.serving.PredictRequest")`."""
    return message_factory.GetMessageClass(_pool().FindMessageTypeByName(full_name))


def data_type(name: str) -> int:
    """Return the number of a `tensorflow.DataType` value, e.g. `data_type("DT_FLOAT")` (1)."""
    return _pool().FindEnumTypeByName("tensorflow.DataType").values_by_name[name].number


class ServiceStub:
    """A client of one TF Serving service on a gRPC channel (sync or `grpc.aio`): one callable per RPC, by name,
    as the generated `*_pb2_grpc` stubs give them (`stub.Predict(request, timeout=...)`)."""

    def __init__(self, channel: grpc.Channel | grpc.aio.Channel, service: str) -> None:
        descriptor = _pool().FindServiceByName(service)
        for method in descriptor.methods:
            request_class = message(method.input_type.full_name)
            response_class = message(method.output_type.full_name)
            rpc = channel.unary_unary(
                f"/{descriptor.full_name}/{method.name}",
                request_serializer=request_class.SerializeToString,
                response_deserializer=response_class.FromString,
            )
            setattr(self, method.name, rpc)
