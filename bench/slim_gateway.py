"""The slim gateway (no TensorFlow) against the full one, both in front of the TF Serving stand-in: same answers?

    python3.11 -m venv /tmp/slim
    python docker/slim_requirements.py > /tmp/slim-requirements.txt
    /tmp/slim/bin/pip install -r /tmp/slim-requirements.txt && /tmp/slim/bin/pip install . --no-deps
    python -m bench.slim_gateway --slim-venv /tmp/slim

Starts the stand-in on the bundled demo model (language model included), `asr serve --tfserving` from the slim
venv and from this one, posts every WAV under tests/fixtures to both and compares the JSON (words, times,
confidences; not `processing_ms`). Prints the slim venv's size and whether `tensorflow` is importable in it.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
from pathlib import Path

import httpx

from bench.gateway_process import free_port, running_gateway
from service.config import BUNDLED_MODEL_PATH

REPO_ROOT = Path(__file__).resolve().parents[1]
MODEL_NAME = "demo"


def _transcripts(url: str, files: list[Path]) -> dict[str, dict]:
    answers = {}
    for path in files:
        response = httpx.post(f"{url}/v1/transcribe", files={"file": (path.name, path.read_bytes())}, timeout=300)
        body = response.json()
        body.pop("processing_ms", None)
        answers[str(path.relative_to(REPO_ROOT))] = {"status": response.status_code, **body}
    return answers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slim-venv", type=Path, required=True, help="a venv with the slim gateway installed")
    args = parser.parse_args()
    slim_python = args.slim_venv / "bin" / "python"
    size = subprocess.run(["du", "-sh", str(args.slim_venv)], capture_output=True, text=True).stdout.split()[0]
    has_tf = subprocess.run([slim_python, "-c", "import tensorflow"], capture_output=True).returncode == 0
    print(f"slim venv {args.slim_venv}: {size}, tensorflow importable: {has_tf}")
    files = sorted((REPO_ROOT / "tests" / "fixtures").rglob("*.wav"))
    env = {name: value for name, value in os.environ.items() if not name.startswith("ASR_")}

    tfserving_port = free_port()
    standin = subprocess.Popen(
        [sys.executable, "-m", "tests.support.tfserving_standin", "--model-base-path", str(BUNDLED_MODEL_PATH),
         "--model-name", MODEL_NAME, "--port", str(tfserving_port)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    answers = {}
    try:
        for name, python in (("slim", slim_python), ("full", Path(sys.executable))):
            port = free_port()
            command = [python, "-m", "cli.main", "serve", "--tfserving", f"127.0.0.1:{tfserving_port}",
                       "--model", str(BUNDLED_MODEL_PATH), "--model-name", MODEL_NAME, "--port", str(port)]  # fmt: skip
            # The slim venv runs its installed copy: started outside the repository, it cannot import this one.
            cwd = Path("/") if name == "slim" else REPO_ROOT
            with running_gateway(
                command, port, env, cwd, ready_timeout_s=300, stop_timeout_s=30,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ) as (url, _):  # fmt: skip
                answers[name] = _transcripts(url, files)
    finally:
        standin.terminate()
        standin.wait(timeout=30)

    differing = [path for path in answers["full"] if answers["slim"][path] != answers["full"][path]]
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"{len(files)} fixtures; slim == full on {len(files) - len(differing)}; differing: {differing}")
    for path in list(answers["full"])[:3]:
        print(f"  {path}: {answers['full'][path].get('text')!r}")
    return 1 if differing or has_tf else 0


if __name__ == "__main__":
    sys.exit(main())
