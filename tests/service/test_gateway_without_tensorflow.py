"""`asr serve --tfserving` never imports TensorFlow, and answers every route family as the full gateway does.

The slim gateway image (docker/Dockerfile.gateway-slim, docs/deployment.md) has no TensorFlow installed. Here the
gateway runs as its users start it, `asr serve --tfserving HOST:PORT --model DIR`, in a subprocess of the full
install under `tests.support.tensorflow_watch`, which reports at exit whether the process ever imported
TensorFlow; the model runs in the TF Serving stand-in (the official `tensorflow_serving` protos, with TensorFlow),
while the gateway builds its requests from `model_export.serving_api`. The reference for every answer is the
embedded gateway over the same export, TensorFlow in-process.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import openai
import pytest
import soundfile

from bench.gateway_process import free_port
from bench.live_server import serve
from bench.stream_client import stream_audio
from service import Settings, create_app
from service.config import BUNDLED_MODEL_PATH
from tests.service.gateway_fixtures import encode, speechlike
from tests.service.test_wyoming import transcribe_like_home_assistant
from tests.support.tfserving_standin import StandInServer

REPO_ROOT = Path(__file__).resolve().parents[2]
SPOKEN_DIGIT = (REPO_ROOT / "tests" / "fixtures" / "fsdd" / "3_jackson_0.wav").read_bytes()
MODEL_NAME = "tiny"
READY_TIMEOUT_S = 120.0
CLIP = encode(speechlike(2.5, 16_000, seed=31), 16_000)
OTHER_CLIP = encode(speechlike(1.5, 8_000, seed=32), 8_000)


@pytest.fixture(scope="module")
def standin(model_base_path: Path) -> Iterator[StandInServer]:
    server = StandInServer(model_base_path, MODEL_NAME, port=0)
    yield server
    server.stop()


class WatchedServer:
    """`asr COMMAND ... --tfserving` in a subprocess under `tensorflow_watch`; `stop()` gives its TensorFlow report."""

    def __init__(self, asr_argv: list[str], run_dir: Path, ready: Callable[[], bool]) -> None:
        self.report_path, self.log_path = run_dir / "tensorflow.json", run_dir / "server.log"
        argv = [sys.executable, "-m", "tests.support.tensorflow_watch", str(self.report_path), *asr_argv]
        env = {name: value for name, value in os.environ.items() if not name.startswith("ASR_")}
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not ready():
            assert self.process.poll() is None, self.log_path.read_text()
            assert time.monotonic() < deadline, self.log_path.read_text()
            time.sleep(0.2)

    def stop(self) -> dict:
        """Stops the server as an orchestrator does (SIGTERM) and returns its report."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
        assert self.report_path.is_file(), self.log_path.read_text()
        return json.loads(self.report_path.read_text())

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _http_ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def _tcp_ready(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _tfserving_flags(standin: StandInServer, model_base_path: Path) -> list[str]:
    return ["--tfserving", standin.address, "--model", str(model_base_path), "--model-name", MODEL_NAME]


@pytest.fixture
def slim_gateway(standin: StandInServer, model_base_path: Path, tmp_path: Path) -> Iterator[WatchedServer]:
    """`asr serve --tfserving ...` as users start it; `.url` is its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = ["serve", *_tfserving_flags(standin, model_base_path), "--port", str(port)]
    gateway = WatchedServer(argv, tmp_path, lambda: _http_ready(url))
    gateway.url = url
    yield gateway
    gateway.kill()


@pytest.fixture(scope="module")
def full_gateway(model_base_path: Path) -> Iterator[str]:
    """The reference: the embedded gateway (TensorFlow in-process) over the same export, with the same defaults but
    one: its streams do not keep conv features between hops, an approximation only the in-process model makes
    (docs/streaming.md, "Streaming per core"; tests/service/streaming/test_feature_cache.py), so both stream
    through the same arithmetic."""
    settings = Settings(model_path=model_base_path, model_name=MODEL_NAME, stream_reuse_features=False)
    with serve(create_app(settings)) as url:
        yield url


def _post(url: str, path: str, files, data: dict | None = None) -> httpx.Response:
    return httpx.post(f"{url}{path}", files=files, data=data, timeout=120)


def _without_timing(body: dict) -> dict:
    return {key: value for key, value in body.items() if key != "processing_ms"}


def test_every_route_family_answers_as_the_full_gateway_and_tensorflow_is_never_imported(slim_gateway, full_gateway):
    slim = slim_gateway.url
    for url in (slim, full_gateway):  # both must have words to compare
        assert _post(url, "/v1/transcribe", {"file": ("a.wav", CLIP)}).json()["words"]

    for path, files, data in [
        ("/v1/transcribe", {"file": ("a.wav", CLIP)}, None),
        ("/v1/transcribe", {"file": ("b.wav", OTHER_CLIP)}, None),
        ("/v1/transcribe?response_format=srt", {"file": ("a.wav", CLIP)}, None),
        ("/v1/transcribe/batch", [("file", ("a.wav", CLIP)), ("file", ("b.wav", OTHER_CLIP))], None),
        (
            "/v1/audio/transcriptions",
            {"file": ("a.wav", CLIP)},
            {"model": MODEL_NAME, "response_format": "verbose_json", "timestamp_granularities[]": "word"},
        ),
        ("/v1/audio/transcriptions", {"file": ("a.wav", CLIP)}, {"model": MODEL_NAME, "stream": "true"}),
        ("/v1/transcribe", {"file": ("noise.wav", b"RIFF not a wav file")}, None),  # the same error, same shape
    ]:
        slim_response, full_response = _post(slim, path, files, data), _post(full_gateway, path, files, data)
        assert slim_response.status_code == full_response.status_code, (path, slim_response.text)
        if slim_response.headers["content-type"].startswith("application/json"):
            slim_body, full_body = slim_response.json(), full_response.json()
            if isinstance(slim_body, dict) and "results" in slim_body:
                slim_body["results"] = [_without_timing(result) for result in slim_body["results"]]
                full_body["results"] = [_without_timing(result) for result in full_body["results"]]
            assert _without_timing(slim_body) == _without_timing(full_body), path
        else:
            assert slim_response.text == full_response.text, path

    sdk = openai.OpenAI(base_url=f"{slim}/v1", api_key="unused", max_retries=0, timeout=120)
    reference = openai.OpenAI(base_url=f"{full_gateway}/v1", api_key="unused", max_retries=0, timeout=120)
    assert sdk.audio.transcriptions.create(model=MODEL_NAME, file=("a.wav", CLIP)).text == (
        reference.audio.transcriptions.create(model=MODEL_NAME, file=("a.wav", CLIP)).text
    )

    samples = speechlike(3.0, 16_000, seed=33)
    streamed = {
        url: asyncio.run(stream_audio(url.removeprefix("http://"), samples, frame_s=0.1, speed=4.0))
        for url in (slim, full_gateway)
    }
    assert streamed[slim].close_code == 1000 and streamed[slim].finals
    assert streamed[slim].text == streamed[full_gateway].text

    [model] = httpx.get(f"{slim}/v1/models").json()["data"]
    [embedded_model] = httpx.get(f"{full_gateway}/v1/models").json()["data"]
    assert (model["backend"], model["name"]) == ("tfserving", MODEL_NAME)
    assert (model["inputs"], model["outputs"]) == (embedded_model["inputs"], embedded_model["outputs"])
    assert httpx.get(f"{slim}/readyz").json() == {"status": "ready"}
    assert "asr_http_requests_total{" in httpx.get(f"{slim}/metrics").text

    report = slim_gateway.stop()
    assert not report["tensorflow_imported"], f"TensorFlow was imported here:\n{report['first_import']}"


def test_the_wyoming_server_answers_as_the_full_gateway_and_tensorflow_is_never_imported(
    standin, model_base_path, tmp_path, full_gateway
):
    port = free_port()
    argv = ["wyoming", *_tfserving_flags(standin, model_base_path), "--uri", f"tcp://127.0.0.1:{port}"]
    server = WatchedServer(argv, tmp_path, lambda: _tcp_ready(port))
    try:
        samples, rate_hz = soundfile.read(io.BytesIO(CLIP), dtype="int16")
        text, _, types = asyncio.run(transcribe_like_home_assistant(port, samples.tobytes(), rate_hz))
        assert types[-1] == "transcript-stop"
        assert text == _post(full_gateway, "/v1/transcribe", {"file": ("a.wav", CLIP)}).json()["text"]
        report = server.stop()
    finally:
        server.kill()
    assert not report["tensorflow_imported"], f"TensorFlow was imported here:\n{report['first_import']}"


# docker/models.config's shape, with two models: the demo first (the default), then the tiny export.
TWO_MODEL_CONFIG = """
model_config_list {
  config {
    name: "demo"
    base_path: "%(models)s/demo"
    model_platform: "tensorflow"
    model_version_policy { latest { num_versions: 1 } }
  }
  config {
    name: "tiny"
    base_path: "%(models)s/tiny"
    model_platform: "tensorflow"
    model_version_policy { latest { num_versions: 1 } }
  }
}
"""


@pytest.mark.slow  # two models in the stand-in, the gateway's start and the demo model in-process: ~30 s
def test_the_gateway_serves_every_model_of_tfserving_model_config_by_name(model_base_path, tmp_path, full_gateway):
    models_dir = tmp_path / "models"  # the volume TF Serving reads and the gateway mounts read-only
    shutil.copytree(BUNDLED_MODEL_PATH, models_dir / "demo")
    shutil.copytree(model_base_path, models_dir / "tiny")
    config_file = tmp_path / "models.config"
    config_file.write_text(TWO_MODEL_CONFIG % {"models": models_dir})
    standin = StandInServer(model_config_file=config_file, port=0)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = ["serve", "--tfserving", standin.address, "--tfserving-config", str(config_file), "--port", str(port)]
    try:
        gateway = WatchedServer(argv, tmp_path, lambda: _http_ready(url))
        try:
            listed = httpx.get(f"{url}/v1/models").json()["data"]
            assert [(model["id"], model["backend"]) for model in listed] == [
                ("demo", "tfserving"),
                ("tiny", "tfserving"),
            ]
            assert [model["decoder"] for model in listed] == ["lm", "greedy"]  # the demo's LM read from its base_path

            with serve(create_app(Settings(model_path=BUNDLED_MODEL_PATH, model_name="demo"))) as demo_gateway:
                alone = {"demo": demo_gateway, "tiny": full_gateway}
                for name, reference in alone.items():
                    files = {"file": ("digit.wav", SPOKEN_DIGIT)}
                    chosen = _post(url, f"/v1/transcribe?model={name}", files).json()
                    expected = _post(reference, "/v1/transcribe", files).json()
                    assert _without_timing(chosen) == _without_timing(expected), name
                    assert chosen["text"] or name == "tiny"  # the demo model hears the digit; random weights may not
                assert _post(url, "/v1/transcribe", {"file": ("d.wav", SPOKEN_DIGIT)}).json()["model"] == "demo"

            unknown = _post(url, "/v1/transcribe?model=wav2vec2", {"file": ("d.wav", SPOKEN_DIGIT)})
            assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "model_not_found"
            report = gateway.stop()
        finally:
            gateway.kill()
    finally:
        standin.stop()
    assert not report["tensorflow_imported"], f"TensorFlow was imported here:\n{report['first_import']}"
