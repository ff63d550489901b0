"""The TF Serving config files in docker/ parse as the protos tensorflow_model_server reads them into, and
say what the rest of the deployment relies on (model name, base path, batching rules Serving enforces)."""

from __future__ import annotations

import re

from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from .layout import DOCKER_DIR, MODEL_NAME, REPO_ROOT, TFSERVING_CONFIG_FILES


def _parse(path, message):
    return text_format.Parse(path.read_text(), message)


def test_models_config_serves_wav2vec2_from_models_dir() -> None:
    config = _parse(DOCKER_DIR / "models.config", model_server_config_pb2.ModelServerConfig())
    models = config.model_config_list.config
    assert [m.name for m in models] == [MODEL_NAME]
    (model,) = models
    assert model.base_path == f"/models/{MODEL_NAME}"
    assert model.model_platform == "tensorflow"
    # Only the newest version is served, so exporting version N+1 swaps the model live.
    assert model.model_version_policy.WhichOneof("policy_choice") == "latest"
    assert model.model_version_policy.latest.num_versions == 1


def test_batching_parameters_obey_tfserving_rules(tfserving_config_messages) -> None:
    params = _parse(DOCKER_DIR / "batching_parameters.txt", tfserving_config_messages["BatchingParameters"]())
    sizes = list(params.allowed_batch_sizes)
    # Serving refuses to start unless allowed sizes increase and end at max_batch_size (batching_session.cc).
    assert sizes == sorted(set(sizes))
    assert sizes[-1] == params.max_batch_size.value
    assert params.batch_timeout_micros.value > 0
    assert params.num_batch_threads.value >= 1
    assert params.max_enqueued_batches.value >= 1
    # Audio of different lengths can only share a batch when Serving pads it; the graph masks the padding.
    assert params.pad_variable_length_inputs


def test_monitoring_config_enables_prometheus(tfserving_config_messages) -> None:
    config = _parse(DOCKER_DIR / "monitoring.config", tfserving_config_messages["MonitoringConfig"]())
    assert config.prometheus_config.enable
    assert config.prometheus_config.path == "/monitoring/prometheus/metrics"


def test_docs_list_exactly_the_tfserving_config_files() -> None:
    """docs/deployment.md tells `asr export` users which docker/ files to run TF Serving with; the compose and
    Kubernetes tests check that these same files are what gets mounted."""
    docs = (REPO_ROOT / "docs" / "deployment.md").read_text()
    section = docs.split("## TF Serving config files", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`docker/([\w.-]+)`", section))
    assert listed == set(TFSERVING_CONFIG_FILES)
    assert all((DOCKER_DIR / name).is_file() for name in listed)
