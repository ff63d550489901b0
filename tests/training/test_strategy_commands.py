"""`asr train` and `asr pretrain` under every strategy the docs and the k8s training Jobs name, run as they spell
them (default options, a few steps), each in its own process on two logical CPUs; a second run resumes.

Each command runs in a process of its own, as a user's does: two MirroredStrategy instances in one process
collide on collective keys, and logical CPUs must be set before TensorFlow starts.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tensorflow as tf
import yaml

from tests.training.test_distributed import free_ports

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 240
# The flags of a Job whose values point at the cluster's bucket or the hub; the tests point them here.
LOCAL_VALUES = ("--pretrained", "--data", "--eval-data", "--out")
FEW_STEPS = ["--batch-size", "2", "--no-progress"]


def job_args(kustomization: str) -> list[str]:
    """Returns the container args of the training Job that `kubectl kustomize k8s/<kustomization>` renders."""
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(ROOT / "k8s" / kustomization)], capture_output=True, text=True, check=True
    ).stdout
    (job,) = [doc for doc in yaml.safe_load_all(rendered) if doc and doc["kind"] == "Job"]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    return container["args"]


def localised(args: list[str], values: dict[str, str]) -> list[str]:
    """Returns `args` with each `--flag=value` of `values` given the local value instead."""
    out = []
    for arg in args:
        flag, _, _ = arg.partition("=")
        out.append(f"{flag}={values[flag]}" if flag in values else arg)
    return out


def start_asr(args: list[str], logical_cpus: int = 2, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.asr_on_cpus", str(logical_cpus), *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen, expected_status: int = 0) -> str:
    try:
        output, _ = process.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"asr timed out after {TIMEOUT_S}s:\n{output[-3000:]}")
    assert process.returncode == expected_status, output[-3000:]
    return output


def run_asr(args: list[str], logical_cpus: int = 2) -> str:
    return finish(start_asr(args, logical_cpus))


def run_workers(args: list[str]) -> list[str]:
    """Runs `args` as two multi-worker processes on loopback (`TF_CONFIG`, as the docs say); returns their logs."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    workers = [
        start_asr(args, 1, {"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})})
        for i in range(2)
    ]
    return [finish(worker) for worker in workers]


def checkpointed_names(out: Path) -> set[str]:
    return {name.split("/")[0] for name, _ in tf.train.list_variables(str(out / "checkpoints"))}


@pytest.fixture
def local_values(tone_corpus: dict[str, str], checkpoint: Path, tmp_path: Path) -> dict[str, str]:
    """The Jobs' bucket and hub paths replaced: the tiny checkpoint, the tone corpus, a run directory here."""
    return {
        "--pretrained": str(checkpoint), "--data": tone_corpus["data"], "--eval-data": tone_corpus["data"],
        "--out": str(tmp_path / "run"),
    }  # fmt: skip


@pytest.fixture
def gpu_job(local_values: dict[str, str]) -> list[str]:
    """The k8s GPU Job's `asr train` command line (`--strategy=mirrored`), its paths pointed at a local run."""
    return localised(job_args("training/gpu"), local_values)


@pytest.mark.slow
def test_the_gpu_job_trains_under_mirrored_and_resumes(gpu_job: list[str], tmp_path: Path) -> None:
    assert "--strategy=mirrored" in gpu_job
    first = run_asr([*gpu_job, "--steps", "2", *FEW_STEPS])
    assert "MirroredStrategy: 2 replica(s)" in first
    assert "data position is not checkpointed" in first
    assert "last evaluation (step 2)" in first
    assert (tmp_path / "run" / "final" / "model.safetensors").exists()

    again = run_asr([*gpu_job, "--steps", "3", *FEW_STEPS])
    assert f"resumed from {tmp_path / 'run' / 'checkpoints' / 'ckpt-2'} at step 2" in again
    assert "finished at step 3" in again


@pytest.mark.slow
def test_the_base_job_trains_under_auto_and_keeps_the_data_position(
    local_values: dict[str, str], tmp_path: Path
) -> None:
    job = localised(job_args("training/base"), local_values)
    assert "--strategy=auto" in job
    output = run_asr([*job, "--steps", "1", *FEW_STEPS])
    assert "_DefaultDistributionStrategy: 1 replica(s)" in output
    # One device: the tf.data iterator (shuffle buffer included) is saved beside the weights.
    assert "data" in checkpointed_names(tmp_path / "run")


def test_the_tpu_job_without_a_tpu_fails_at_once_with_the_reason(local_values: dict[str, str]) -> None:
    job = localised(job_args("training/tpu"), local_values)
    assert "--strategy=tpu" in job
    output = finish(start_asr([*job, "--steps", "1"], logical_cpus=1), expected_status=2)
    assert "asr train: strategy=tpu: no TPU found" in output
    assert "Traceback" not in output


@pytest.mark.slow
def test_multiworker_trains_and_every_worker_resumes_from_the_chief(gpu_job: list[str], tmp_path: Path) -> None:
    job = [arg if not arg.startswith("--strategy") else "--strategy=multiworker" for arg in gpu_job]
    first = run_workers([*job, "--steps", "2", *FEW_STEPS])
    assert all("2 replica(s)" in log and "finished at step 2" in log for log in first)

    again = run_workers([*job, "--steps", "3", *FEW_STEPS])
    for log in again:
        assert "at step 2" in log and "finished at step 3" in log


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["mirrored", "multiworker"])
def test_pretrain_runs_and_resumes_under(strategy: str, tone_corpus: dict[str, str], tmp_path: Path) -> None:
    # docs/training.md: "On GPUs use `--strategy mirrored` (or `multiworker`)".
    command = [
        "pretrain", "--config", tone_corpus["model"], "--data", tone_corpus["data"], "--out", str(tmp_path / "run"),
        "--strategy", strategy, *FEW_STEPS,
    ]  # fmt: skip
    run = run_asr if strategy == "mirrored" else run_workers
    run([*command, "--steps", "1"])
    logs = run([*command, "--steps", "2"])
    for log in [logs] if isinstance(logs, str) else logs:
        assert "2 replica(s)" in log and "at step 1" in log and "finished at step 2" in log
        # The masked-frame count is all-reduced across replicas inside the step: the loss stays finite.
        loss = float(re.search(r"step 2/2 loss (\S+)", log).group(1))
        assert math.isfinite(loss) and "contrastive_loss" in log
