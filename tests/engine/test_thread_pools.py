"""TensorFlow's thread pools: sizes asked for after the runtime started are refused with a message that says
what is in effect and what to do, not TensorFlow's bare RuntimeError; asking for the default is always fine."""

from __future__ import annotations

import pytest
import tensorflow as tf

from engine.thread_pools import ThreadPools, current_thread_pools, set_thread_pools
from model_export.errors import ThreadSettingsError


@pytest.fixture
def started_runtime() -> ThreadPools:
    """The pools of this test process's TensorFlow runtime, started by running an op."""
    tf.constant(1.0).numpy()
    return current_thread_pools()


def test_other_sizes_after_the_runtime_started_are_refused(started_runtime: ThreadPools) -> None:
    asked = started_runtime.intra_op_threads + 3
    with pytest.raises(ThreadSettingsError, match=f"cannot use intra-op {asked} / inter-op 0 threads") as error:
        set_thread_pools(asked, 0)
    assert "already started" in str(error.value) and "before anything runs a TensorFlow op" in str(error.value)
    assert current_thread_pools() == started_runtime


def test_defaults_and_the_sizes_in_effect_are_accepted_after_the_start(started_runtime: ThreadPools) -> None:
    assert set_thread_pools(0, 0) == started_runtime
    same = set_thread_pools(started_runtime.intra_op_threads, started_runtime.inter_op_threads)
    assert same == started_runtime


def test_negative_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="inter_op_threads must be >= 0"):
        set_thread_pools(0, -1)


def test_describe_says_what_the_default_means_here() -> None:
    pools = ThreadPools(intra_op_threads=0, inter_op_threads=1, schedulable_cpus=6)
    assert pools.describe() == "intra-op 0 (TensorFlow's default: 6), inter-op 1"
