"""Writes `model_export/serving_api.binpb`, the TF Serving API's protos, from the installed `tensorflow-serving-api`.

`model_export.serving_api` serves the gateway these protos without TensorFlow. They are the ones the generated
`tensorflow_serving/apis/*_pb2.py` modules embed (each registers its serialized FileDescriptorProto), copied out
with every file they import: the same descriptors give the same messages and the same bytes on the wire. Run it
after changing the `tensorflow-serving-api` pin (needs the full install):

    python -m model_export.serving_api_source

tests/model_export/test_serving_api.py fails while the committed file differs from what this gives.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from google.protobuf import descriptor_pb2

from model_export.serving_api import DESCRIPTOR_SET_FILE

# The services the gateway calls (their files import the messages: predict.proto, get_model_metadata.proto...),
# and the model config file TF Serving reads, whose models the gateway serves (model_export/serving_config.py).
_SERVICE_MODULES = (
    "tensorflow_serving.apis.prediction_service_pb2",
    "tensorflow_serving.apis.model_service_pb2",
    "tensorflow_serving.config.model_server_config_pb2",
)


def installed_descriptor_set() -> bytes:
    """Return the FileDescriptorSet of the TF Serving services and all they import, dependencies first."""
    files: dict[str, descriptor_pb2.FileDescriptorProto] = {}

    def add(file_descriptor) -> None:
        if file_descriptor.name in files:
            return
        for dependency in file_descriptor.dependencies:
            add(dependency)
        file_proto = descriptor_pb2.FileDescriptorProto()
        file_descriptor.CopyToProto(file_proto)
        files[file_descriptor.name] = file_proto

    for module in _SERVICE_MODULES:
        add(importlib.import_module(module).DESCRIPTOR)
    # deterministic=True: map fields (options) serialize in one order, so the committed file is reproducible.
    return descriptor_pb2.FileDescriptorSet(file=list(files.values())).SerializeToString(deterministic=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m model_export.serving_api_source", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--output", type=Path, default=DESCRIPTOR_SET_FILE)
    args = parser.parse_args(argv)
    args.output.write_bytes(installed_descriptor_set())
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
