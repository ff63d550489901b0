"""Fixtures for the deployment tests: the real tools that read our files (compose, kustomize, TF Serving's
config protos), found on this machine, never imitated.

A tool that is missing skips its tests with the package that provides it; `.ci/run` installs those packages so
CI never skips.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, wrappers_pb2

from .layout import REPO_ROOT

TOOL_TIMEOUT_S = 60


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=TOOL_TIMEOUT_S)


@pytest.fixture(scope="session")
def compose_cli() -> list[str]:
    """Gives the command of a real Compose implementation: the `docker compose` plugin, else `docker-compose`."""
    if shutil.which("docker") and _run(["docker", "compose", "version"], REPO_ROOT).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.skip("no Compose implementation: install Debian's `docker-compose` package (apt-get install docker-compose)")


@pytest.fixture(scope="session")
def kustomize_cli() -> list[str]:
    """Gives the command that renders a kustomization: `kubectl kustomize`, else the `kustomize` binary."""
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    pytest.skip("neither kubectl (with its built-in kustomize) nor kustomize is installed")


@pytest.fixture(scope="session")
def render_kustomization(kustomize_cli: list[str]) -> Callable[[Path], list[dict]]:
    """Gives a function that renders one kustomization directory into its list of objects."""
    cache: dict[Path, list[dict]] = {}

    def render(directory: Path) -> list[dict]:
        if directory not in cache:
            result = _run([*kustomize_cli, str(directory)], REPO_ROOT)
            if result.returncode != 0:
                raise AssertionError(f"{' '.join(kustomize_cli)} {directory} failed:\n{result.stderr}")
            cache[directory] = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
        return cache[directory]

    return render


@pytest.fixture(scope="session")
def compose_config(compose_cli: list[str]) -> Callable[[dict[str, str] | None], dict]:
    """Gives a function that returns `compose config` of compose.yaml (resolved, interpolated) as a dict."""

    def config(extra_env: dict[str, str] | None = None) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ASR_", "TFSERVING_", "COMPOSE_"))}
        env.update(extra_env or {})
        result = _run([*compose_cli, "-f", "compose.yaml", "config"], REPO_ROOT, env=env)
        if result.returncode != 0:
            raise AssertionError(f"{' '.join(compose_cli)} config failed:\n{result.stderr}")
        return yaml.safe_load(result.stdout)

    return config


def _tfserving_config_messages() -> dict[str, type]:
    """Builds BatchingParameters and MonitoringConfig from TF Serving's .proto definitions.

    tensorflow-serving-api ships ModelServerConfig (models.config) but not these two, so their fields are
    transcribed here from tensorflow_serving/servables/tensorflow/session_bundle_config.proto and
    tensorflow_serving/config/monitoring_config.proto. Text-format parsing is by field name, so a misspelt or
    unknown field in our files fails exactly as it would in tensorflow_model_server.
    """
    pool = descriptor_pool.DescriptorPool()
    wrappers = descriptor_pb2.FileDescriptorProto()
    wrappers_pb2.DESCRIPTOR.CopyToProto(wrappers)
    pool.Add(wrappers)

    proto = descriptor_pb2.FileDescriptorProto(
        name="deploy_tests/tfserving_configs.proto",
        package="tensorflow.serving",
        syntax="proto3",
        dependency=["google/protobuf/wrappers.proto"],
    )
    field = descriptor_pb2.FieldDescriptorProto
    optional, repeated = field.LABEL_OPTIONAL, field.LABEL_REPEATED

    def add(
        message: descriptor_pb2.DescriptorProto,
        name: str,
        number: int,
        kind: int,
        type_name: str = "",
        label: int = optional,
    ) -> None:
        added = message.field.add(name=name, number=number, type=kind, label=label)
        if type_name:
            added.type_name = type_name

    batching = proto.message_type.add(name="BatchingParameters")
    int64_value, string_value = ".google.protobuf.Int64Value", ".google.protobuf.StringValue"
    add(batching, "max_batch_size", 1, field.TYPE_MESSAGE, int64_value)
    add(batching, "batch_timeout_micros", 2, field.TYPE_MESSAGE, int64_value)
    add(batching, "max_enqueued_batches", 3, field.TYPE_MESSAGE, int64_value)
    add(batching, "num_batch_threads", 4, field.TYPE_MESSAGE, int64_value)
    add(batching, "thread_pool_name", 5, field.TYPE_MESSAGE, string_value)
    add(batching, "allowed_batch_sizes", 6, field.TYPE_INT64, label=repeated)
    add(batching, "pad_variable_length_inputs", 7, field.TYPE_BOOL)

    prometheus = proto.message_type.add(name="PrometheusConfig")
    add(prometheus, "enable", 1, field.TYPE_BOOL)
    add(prometheus, "path", 2, field.TYPE_STRING)
    monitoring = proto.message_type.add(name="MonitoringConfig")
    add(monitoring, "prometheus_config", 1, field.TYPE_MESSAGE, ".tensorflow.serving.PrometheusConfig")

    pool.Add(proto)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"tensorflow.serving.{name}"))
        for name in ("BatchingParameters", "MonitoringConfig")
    }


@pytest.fixture(scope="session")
def tfserving_config_messages() -> dict[str, type]:
    """Gives TF Serving's BatchingParameters and MonitoringConfig message classes, by name."""
    return _tfserving_config_messages()
