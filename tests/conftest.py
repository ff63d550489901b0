"""Shared test setup: quiet TensorFlow, and no Hugging Face Hub downloads.

Imports have one root, the repository's: the project's packages come from its editable install, and the
tests' shared helpers are imported as `tests.support...`, `tests.training.synthetic_speech` (pytest's
`pythonpath = ["."]` in pyproject.toml puts the root on sys.path; --import-mode=importlib adds nothing).
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from tests.support.tiny_models import tiny_checkpoint

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def pytest_configure(config: pytest.Config) -> None:
    """Sets TensorFlow up in each process that runs tests, before any test module starts it.

    Grappler's graph rewrites are turned off. It optimises each new graph on its first call, which pays back
    over thousands of calls; a test calls most of its graphs a few times, so the rewrites were a sixth of the
    suite's time (10:36 without, 12:00 with, on the 2-core machine). They do not change what a graph
    computes. The distributed training workers turn them off too (tests/support/test_process.py). The
    production path with them on stays covered by the tests that run the product in its own process:
    `asr serve`, the compose topology on loopback (the demo model through the gateway and the TF Serving
    stand-in), and the CLI's subprocess tests.

    Under pytest-xdist, each worker's thread pools get its share of the cores: TensorFlow sizes both pools to
    every core and its threads spin while they wait, so two workers of two threads on two cores slowed each
    other's tests down by up to 2.5x (the resume test: 26 s alone, 65 s beside another worker).
    """
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        return  # the pytest-xdist controller runs no tests
    import tensorflow as tf

    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        threads = max(1, len(os.sched_getaffinity(0)) // workers)
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        # ... and the processes the tests start (`asr serve`, the TF Serving stand-in, training workers), which
        # TensorFlow reads from the environment; explicit ASR_*_OP_THREADS settings still take precedence.
        os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(threads))
        os.environ.setdefault("TF_NUM_INTEROP_THREADS", str(threads))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Runs the files that hold `slow` tests first, the most slow tests first; the order inside a file is kept.

    pytest-xdist (`--dist loadfile --no-loadscope-reorder`, scripts/test.sh) hands files to the workers in this
    order. Longest first keeps one worker from starting a 40 s file when the others have nothing left to run:
    by default xdist sends the files with the most tests first, which put the few-test, slow training and
    long-audio files last and left one worker running alone for the last minute.
    """
    slow_per_file = Counter(item.path for item in items if item.get_closest_marker("slow"))
    # A stable sort: files with as many slow tests keep their collection order, and each file's items stay together.
    items.sort(key=lambda item: -slow_per_file[item.path])


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random model and the base-960h processor, written by `save_pretrained` (HF layout)."""
    return tiny_checkpoint(tmp_path_factory)
