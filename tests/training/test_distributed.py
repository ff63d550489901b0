"""The same training under MirroredStrategy and MultiWorkerMirroredStrategy as on one device."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 240


def run_worker(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.training.distributed_worker", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen) -> None:
    try:
        output, _ = process.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"worker timed out after {TIMEOUT_S}s:\n{output[-3000:]}")
    assert process.returncode == 0, output[-3000:]


def weights(result: np.lib.npyio.NpzFile) -> list[np.ndarray]:
    return [result[f"w{i}"] for i in range(len([k for k in result.files if k.startswith("w")]))]


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_mirrored_over_two_cpus_equals_one_device(tone_corpus: dict[str, str], tmp_path: Path) -> None:
    # One process: the single-device run on one of the two logical CPUs, then the two-replica run.
    runs = [f"default:4:{tmp_path / 'one.npz'}", f"mirrored:2:{tmp_path / 'two.npz'}"]
    finish(run_worker(["2", tone_corpus["root"], *runs]))
    single, mirrored = np.load(tmp_path / "one.npz"), np.load(tmp_path / "two.npz")

    assert int(single["replicas"]) == 1 and int(mirrored["replicas"]) == 2
    np.testing.assert_allclose(mirrored["losses"], single["losses"], rtol=1e-5)
    # atol: Adam turns near-zero gradients (summed in another order) into steps of up to lr, 1e-3.
    for a, b in zip(weights(mirrored), weights(single), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5)


@pytest.mark.slow
def test_two_worker_processes_end_with_identical_weights(tone_corpus: dict[str, str], tmp_path: Path) -> None:
    ports = free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    workers = [
        run_worker(["1", tone_corpus["root"], f"multiworker:2:{tmp_path / f'worker{index}.npz'}"],
                   env={"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})})
        for index in range(2)
    ]  # fmt: skip
    for worker in workers:
        finish(worker)
    results = [np.load(tmp_path / f"worker{index}.npz") for index in range(2)]

    assert [int(r["replicas"]) for r in results] == [2, 2]
    np.testing.assert_array_equal(results[0]["losses"], results[1]["losses"])
    for a, b in zip(weights(results[0]), weights(results[1]), strict=True):
        np.testing.assert_array_equal(a, b)
    assert np.all(np.isfinite(results[0]["losses"]))
