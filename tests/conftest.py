"""Shared test setup: quiet TensorFlow, and no Hugging Face Hub downloads.

Imports have one root, the repository's: the project's packages come from its editable install, and the
tests' shared helpers are imported as `tests.support...`, `tests.training.synthetic_speech` (pytest's
`pythonpath = ["."]` in pyproject.toml puts the root on sys.path; --import-mode=importlib adds nothing).
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session", autouse=True)
def _graphs_without_grappler() -> None:
    """Turns off grappler's graph rewrites in the processes that run tests (not in those tests start).

    Grappler optimises each new graph on its first call, which pays back over thousands of calls; a test calls
    most of its graphs a few times, so the rewrites were a sixth of the suite's time (10:36 without, 12:00
    with, measured on the 2-core machine). They do not change what a graph computes. The distributed training
    workers turn them off too (tests/support/test_process.py). The production path with them on stays covered
    by the tests that run the product in its own process: `asr serve`, the compose topology on loopback (the
    demo model through the gateway and the TF Serving stand-in), and the CLI's subprocess tests.
    """
    import tensorflow as tf

    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
