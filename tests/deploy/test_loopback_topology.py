"""compose.yaml's topology started on 127.0.0.1, from the same config files compose mounts, transcribing a file.

No Docker engine runs here, so the three compose services run as local processes instead:

- `export`: what `export-once` does by default (`ASR_EXPORT_MODEL=default`): a copy of the bundled demo model,
  language model included, into `<tmp>/models/<name>/1`, where `<tmp>/models` plays the `models` volume and
  `<name>`/base path come from the `docker/models.config` that compose mounts into TF Serving (read through
  compose.yaml's own mounts and flags). The gateway reads the same volume, as compose mounts it.
- `tfserving`: **`tests.support.tfserving_standin` (a test double) replaces the `tensorflow_model_server` binary,
  which cannot be installed here** (no TF Serving package or image is reachable from these machines). The
  stand-in is a real gRPC server speaking TF Serving's own `PredictionService`/`ModelService` protos over the
  same SavedModel, started with the model name and base path `models.config` gives. It ignores the batching and
  monitoring files; those are checked as the protos the real server parses them into (test_tfserving_configs.py).
- `gateway`: `asr serve --tfserving ...` with compose's `gateway` environment; only the address changes, from
  compose's service name `tfserving:8500` to the stand-in's loopback port.

What this shows: the names, paths and ports in compose.yaml and models.config fit together and a recording
uploaded to the gateway comes back with the transcript `asr transcribe` gives in-process for the same demo model
(with its language model: the same decoder, the same words). What it cannot show: that the real
`tensorflow/serving` image loads the export (the export tests check the graph uses only core TensorFlow ops for
that reason).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

import httpx
import pytest
import soundfile as sf
import yaml
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from bench.gateway_process import free_port
from cli.main import main
from model_export.contract import resolve_version_dir
from service.config import BUNDLED_MODEL_PATH

from .compose_file import command_flags, interpolate, mounts
from .layout import REPO_ROOT

# Three processes import TensorFlow on a 2-core machine that may be busy; readiness usually takes 15-40 s.
READY_TIMEOUT_S = 240.0
STOP_TIMEOUT_S = 15.0


def _festival_recording() -> bytes:
    """A recorded sentence of the demo model's domain, resampled to 8 kHz: the gateway must resample it back."""
    audio, rate_hz = sf.read(REPO_ROOT / "tests/fixtures/festival/eval_festival-festival-007906.wav", dtype="float32")
    buffer = io.BytesIO()
    sf.write(buffer, audio[::2], rate_hz // 2, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


class Topology:
    """What compose.yaml and the files it mounts say the three services are."""

    def __init__(self, compose_file: Path) -> None:
        services = yaml.safe_load(compose_file.read_text())["services"]
        tfserving, gateway = services["tfserving"], services["gateway"]
        self.tfserving_flags = command_flags(tfserving)
        binds = {target: compose_file.parent / source for kind, source, target in mounts(tfserving) if kind == "bind"}
        self.models_config_file = binds[self.tfserving_flags["model_config_file"]]
        config = text_format.Parse(self.models_config_file.read_text(), model_server_config_pb2.ModelServerConfig())
        (model,) = config.model_config_list.config
        self.model_name = model.name
        base_path = PurePosixPath(model.base_path)
        # The named volume TF Serving reads models from, e.g. models:/models, holding base_path.
        (self.models_mount,) = [
            PurePosixPath(target)
            for kind, _, target in mounts(tfserving)
            if kind == "volume" and base_path.is_relative_to(target)
        ]
        self.base_path_in_volume = base_path.relative_to(self.models_mount)
        # `${ASR_API_KEYS:-}` and the like, as compose fills them with none of those variables set.
        self.gateway_env = {name: interpolate(str(value)) for name, value in gateway["environment"].items()}
        (self.gateway_models_mount,) = [
            PurePosixPath(target) for kind, source, target in mounts(gateway) if kind == "volume" and source == "models"
        ]

    def gateway_env_on_loopback(self, tfserving_port: int, models_volume: Path) -> dict[str, str]:
        """Compose's gateway environment with the TF Serving service name swapped for the loopback port and the
        `models` volume's mount point for the directory playing it."""
        host, _, port = self.gateway_env["ASR_TFSERVING_ADDRESS"].partition(":")
        assert (host, port) == ("tfserving", self.tfserving_flags["port"]), "gateway must call tfserving gRPC"
        model_path = PurePosixPath(self.gateway_env["ASR_MODEL_PATH"]).relative_to(self.gateway_models_mount)
        return {
            **self.gateway_env,
            "ASR_TFSERVING_ADDRESS": f"127.0.0.1:{tfserving_port}",
            "ASR_MODEL_PATH": str(models_volume / model_path),
        }


@pytest.fixture
def start_process(tmp_path: Path) -> Iterator[Callable[[str, list[str], dict[str, str]], subprocess.Popen]]:
    """Gives a function that starts a process logging to `<tmp>/<name>.log`; every one is stopped afterwards."""
    started: list[subprocess.Popen] = []

    def start(name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("ASR_")}
        with open(tmp_path / f"{name}.log", "wb") as log:
            process = subprocess.Popen(
                argv, cwd=REPO_ROOT, env={**base_env, **env}, stdout=log, stderr=subprocess.STDOUT
            )
        process.log_path = tmp_path / f"{name}.log"
        started.append(process)
        return process

    yield start
    for process in started:
        process.terminate()
    for process in started:
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(url: str, processes: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                pytest.fail(f"{process.args} exited with {process.returncode}:\n{process.log_path.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    logs = "\n".join(f"--- {p.args}\n{p.log_path.read_text()[-2000:]}" for p in processes)
    pytest.fail(f"{url} not ready within {READY_TIMEOUT_S} s\n{logs}")


@pytest.mark.slow
def test_compose_topology_on_loopback_transcribes_a_file(tmp_path: Path, start_process, capsys) -> None:
    topology = Topology(REPO_ROOT / "compose.yaml")
    assert topology.gateway_env["ASR_MODEL_NAME"] == topology.model_name, "gateway asks for another model"

    # export: export-once's default, a copy of the bundled model, into the directory playing the `models` volume.
    models_volume = tmp_path / "models"
    model_base_path = models_volume / topology.base_path_in_volume
    shutil.copytree(resolve_version_dir(BUNDLED_MODEL_PATH).path, model_base_path / "1")

    # tfserving (the stand-in, see the module docstring) and the gateway, as compose starts them.
    tfserving_port, gateway_port = free_port(), free_port()
    standin = start_process("tfserving-standin", [
        sys.executable, "-m", "tests.support.tfserving_standin", "--model-base-path", str(model_base_path),
        "--model-name", topology.model_name, "--port", str(tfserving_port),
    ], {})  # fmt: skip
    env = topology.gateway_env_on_loopback(tfserving_port, models_volume)
    assert Path(env["ASR_MODEL_PATH"]) == model_base_path, "the gateway must read the model TF Serving serves"
    gateway = start_process("gateway", [
        sys.executable, "-m", "cli.main", "serve", "--tfserving", env["ASR_TFSERVING_ADDRESS"],
        "--model-name", env["ASR_MODEL_NAME"], "--host", "127.0.0.1", "--port", str(gateway_port),
    ], env)  # fmt: skip

    # Meanwhile, the reference: `asr transcribe` of the same recording with the bundled model, in this process.
    wav = _festival_recording()
    (tmp_path / "call.wav").write_bytes(wav)
    assert main(["transcribe", str(tmp_path / "call.wav"), "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    assert expected["decoder"] == "lm" and "FIVE SIX TWO ONE TWO" in expected["text"], expected

    gateway_url = f"http://127.0.0.1:{gateway_port}"
    _wait_ready(f"{gateway_url}/readyz", [standin, gateway])
    response = httpx.post(f"{gateway_url}/v1/transcribe", files={"file": ("call.wav", wav, "audio/wav")}, timeout=120.0)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["text"], body["decoder"]) == (expected["text"], expected["decoder"])
    assert body["model"] == topology.model_name
    assert body["source_sample_rate_hz"] == 8_000
