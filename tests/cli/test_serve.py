"""`asr serve`'s checks before it starts: a busy port, a missing model or LM folder are one line and exit 2."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from audio_input import load_audio
from bench.gateway_process import free_port
from cli.main import main
from engine.tflite_client import TFLiteClient
from wav2vec2 import SAMPLE_RATE_HZ, Wav2Vec2Processor

FSDD_CLIP = Path(__file__).resolve().parents[1] / "fixtures" / "fsdd" / "7_jackson_32.wav"  # 8 kHz, spoken "seven"


def test_a_port_in_use_fails_at_once_before_tensorflow_and_the_model_load(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.monotonic()
        # The model directory is missing too: the port is checked first, before anything slow.
        result = subprocess.run(
            [sys.executable, "-m", "cli.main", "serve", "--port", str(port), "--model", str(tmp_path / "none")],
            capture_output=True, text=True, timeout=60, env={**os.environ, "ASR_HOST": "127.0.0.1"},
        )  # fmt: skip
        elapsed_s = time.monotonic() - started
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f"asr serve: cannot listen on 127.0.0.1:{port}: Address already in use"
    assert "startup complete" not in result.stderr
    assert elapsed_s < 10  # no TensorFlow import (~5 s), no model load; about 0.5 s on an idle machine


def test_serve_without_a_model_exits_with_a_clear_message(tmp_path, capsys):
    assert main(["serve", "--port", "0", "--model", str(tmp_path / "missing")]) == 2
    assert "missing: not a folder, and not a Hugging Face Hub id (OWNER/NAME)" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["serve", "--port", "0", "--model", str(tmp_path / "empty")]) == 2
    assert "no SavedModel at" in capsys.readouterr().err


def test_serve_with_a_missing_lm_folder_exits_with_a_clear_message(model_base_path, tmp_path, capsys):
    assert main(["serve", "--port", "0", "--model", str(model_base_path), "--lm", str(tmp_path / "no_lm")]) == 2
    assert "no_lm is not a language-model folder: decoder.json is missing" in capsys.readouterr().err


def test_a_bad_setting_in_the_environment_is_an_input_error(monkeypatch, capsys):
    monkeypatch.setenv("ASR_BATCH_MAX_SIZE", "lots")
    assert main(["serve", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("asr serve: ") and "batch_max_size" in err


def test_serve_warns_when_listening_beyond_loopback_without_keys(model_base_path, monkeypatch, capsys):
    import uvicorn

    binds = []  # the real server is not started: only where it would listen matters here
    monkeypatch.setattr(uvicorn.Server, "run", lambda server, sockets=None: binds.append(server.config.host))
    monkeypatch.delenv("ASR_API_KEYS", raising=False)
    argv = ["serve", "--model", str(model_base_path), "--no-lm", "--port", "0"]
    assert main(argv) == 0
    assert "warning" not in capsys.readouterr().err  # loopback by default: no warning
    assert main([*argv, "--host", "0.0.0.0"]) == 0
    assert "listening on 0.0.0.0 without API keys" in capsys.readouterr().err
    monkeypatch.setenv("ASR_API_KEYS", "sk-a,sk-b")
    assert main([*argv, "--host", "0.0.0.0"]) == 0
    err = capsys.readouterr().err
    assert "warning" not in err and "sk-a" not in err
    assert binds == ["127.0.0.1", "0.0.0.0", "0.0.0.0"]


def test_serve_runs_the_model_with_the_thread_pools_it_is_given(model_base_path, tmp_path):
    # A fresh process, since TensorFlow fixes its pools when its runtime starts: ASR_INTRA_OP_THREADS from the
    # environment, --inter-op-threads as a flag; the gateway reports what TensorFlow says it uses.
    port, log_path = free_port(), tmp_path / "serve.log"
    command = [sys.executable, "-m", "cli.main", "serve", "--model", str(model_base_path), "--no-lm",
               "--port", str(port), "--inter-op-threads", "1"]  # fmt: skip
    env = {**os.environ, "ASR_HOST": "127.0.0.1", "ASR_INTRA_OP_THREADS": "1", "ASR_LOG_JSON": "true"}
    env.pop("ASR_INTER_OP_THREADS", None)
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        runtime = _wait_for_runtime(f"http://127.0.0.1:{port}", process, timeout_s=120)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert (runtime["intra_op_threads"], runtime["inter_op_threads"]) == (1, 1)
    assert runtime["schedulable_cpus"] == len(os.sched_getaffinity(0))
    records = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    (pools,) = [record for record in records if record["message"].startswith("TensorFlow thread pools")]
    assert (pools["intra_op_threads"], pools["inter_op_threads"]) == (1, 1)
    assert pools["message"] == "TensorFlow thread pools: intra-op 1, inter-op 1"


def _wait_for_runtime(url: str, process: subprocess.Popen, timeout_s: float) -> dict:
    """Returns the `runtime` of the gateway's /v1/models once it answers; fails if the process exits first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, f"asr serve exited with {process.returncode}"
        try:
            response = httpx.get(url + "/v1/models", timeout=5)
        except httpx.TransportError:
            time.sleep(0.5)
            continue
        if response.status_code == 200:
            return response.json()["data"][0]["runtime"]
        time.sleep(0.5)
    raise AssertionError(f"asr serve did not answer /v1/models within {timeout_s} s")


def test_negative_thread_counts_are_an_input_error(capsys):
    assert main(["serve", "--port", "0", "--intra-op-threads", "-1"]) == 2
    assert "intra_op_threads" in capsys.readouterr().err


def test_several_models_by_name_from_flags_and_a_models_file(model_base_path, tmp_path, monkeypatch, capsys):
    import uvicorn

    from service.config import BUNDLED_MODEL_PATH

    served = []  # the real server is not started: the settings the app got are what matters here
    monkeypatch.setattr(uvicorn.Server, "run", lambda server, sockets=None: served.append(server.config.app))
    models_file = tmp_path / "models.json"
    models_file.write_text(json.dumps({"de": {"path": str(model_base_path), "decoder": "greedy"}}))
    argv = ["serve", "--port", "0", "--model", f"demo={BUNDLED_MODEL_PATH}", "--model", f"tiny={model_base_path}"]
    assert main([*argv, "--models-file", str(models_file)]) == 0
    settings = served[0].state.settings
    assert settings.model_names() == ["demo", "de", "tiny"]
    assert settings.model.path == BUNDLED_MODEL_PATH
    assert (settings.registry.models["tiny"].path, settings.registry.models["de"].decoder) == (
        model_base_path,
        "greedy",
    )

    assert main(["serve", "--port", "0", "--model", str(BUNDLED_MODEL_PATH), "--model", str(model_base_path)]) == 2
    assert f"name each model after the first: --model NAME={model_base_path}" in capsys.readouterr().err
    assert main([*argv, "--model", f"late={tmp_path / 'missing'}"]) == 2
    assert "model 'late': no model at" in capsys.readouterr().err


# Python as the slim gateway image has it: `import tensorflow` fails (the package is not installed there).
_WITHOUT_TENSORFLOW = """
import importlib.abc, sys
class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname.partition(".")[0] == "tensorflow":
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
sys.meta_path.insert(0, NotInstalled())
from cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_serving_in_process_without_tensorflow_installed_says_which_install_to_use(tmp_path):
    argv = [sys.executable, "-c", _WITHOUT_TENSORFLOW, "serve", "--port", "0"]
    env = {name: value for name, value in os.environ.items() if not name.startswith("ASR_")}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("asr serve: running the model in-process or exporting a checkpoint needs TensorFlow")
    assert "--tfserving" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_serve_runs_an_int8_export_on_tensorflow_lite(checkpoint, tmp_path):
    # The two commands of model_export/README.md ("int8"): export with --precision int8, serve that directory.
    out = tmp_path / "models"
    argv = ["export", "--model", str(checkpoint), "--out", str(out), "--name", "asr", "--version", "1"]
    assert main([*argv, "--precision", "int8"]) == 0
    port, log_path = free_port(), tmp_path / "serve.log"
    command = [sys.executable, "-m", "cli.main", "serve", "--model", str(out / "asr"), "--no-lm", "--port", str(port)]
    with open(log_path, "w") as log:
        env = {**os.environ, "ASR_HOST": "127.0.0.1"}
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        runtime = _wait_for_runtime(f"http://127.0.0.1:{port}", process, timeout_s=120)
        files = {"file": ("digit.wav", FSDD_CLIP.read_bytes())}
        response = httpx.post(f"http://127.0.0.1:{port}/v1/transcribe", files=files, timeout=60)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert runtime["engine"] == "tensorflow-lite int8"
    assert response.status_code == 200, response.text
    # What the int8 model itself says about the same 16 kHz samples (the gateway's decoder resamples the 8 kHz file).
    int8 = TFLiteClient(out / "asr" / "1", num_threads=1)
    logits = int8.logits_batch([load_audio(FSDD_CLIP, SAMPLE_RATE_HZ).samples])[0]
    assert response.json()["text"] == Wav2Vec2Processor().batch_decode([logits.argmax(-1)])[0].strip()


def test_a_tfserving_model_config_that_cannot_be_served_is_one_line_and_exit_2(model_base_path, tmp_path, capsys):
    config_file = tmp_path / "models.config"
    listed = f'model_config_list {{ config {{ name: "tiny" base_path: "{model_base_path}" }} '
    config_file.write_text(listed + f'config {{ name: "gone" base_path: "{tmp_path / "gone"}" }} }}')
    tfserving = ["serve", "--port", "0", "--tfserving", "127.0.0.1:1", "--tfserving-config", str(config_file)]
    for argv, message in [
        (tfserving[:3] + tfserving[5:], "--tfserving-config (ASR_TFSERVING_MODEL_CONFIG) needs --tfserving HOST:PORT"),
        ([*tfserving, "--model-name", "de"], f"model 'de' is not in {config_file} (it lists tiny, gone)"),
        ([*tfserving, "--model", str(model_base_path)], "--tfserving-config lists the models: leave out --model"),
        (tfserving, f"model 'gone': no model at {tmp_path / 'gone'}: not a folder"),
    ]:
        assert main(argv) == 2, argv
        assert capsys.readouterr().err.startswith(f"asr serve: {message}"), argv
    config_file.write_text('model_config_list { config { name: "tiny" base_pth: "/models/tiny" } }')
    assert main(tfserving) == 2
    assert 'has no field named "base_pth"' in capsys.readouterr().err
