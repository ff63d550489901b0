"""TensorFlow's two CPU thread pools for in-process model runs: set them before the runtime starts, read them back.

TensorFlow sizes both pools by the CPUs the process may be scheduled on (its CPU affinity), not by a container's
CPU quota: a pod limited to 2 CPUs on a 64-core node gets 64 threads per pool, which the kernel then throttles.
The pools are built once, when the runtime starts (the first op, or loading a SavedModel); after that TensorFlow
refuses other sizes, so a caller sets them first, and a late call is an error here rather than a silent no-op.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import tensorflow as tf

from model_export.errors import ThreadSettingsError


@dataclass(frozen=True)
class ThreadPools:
    """The sizes TensorFlow's runtime uses; 0 is TensorFlow's default (one thread per schedulable CPU)."""

    intra_op_threads: int  # threads one op (a matmul, a convolution) splits its work over
    inter_op_threads: int  # ops of one graph run at once, and concurrent graph runs
    schedulable_cpus: int  # what 0 resolves to

    def describe(self) -> str:
        """Return e.g. `intra-op 2, inter-op 1` (with what 0 means on this machine)."""

        def size(threads: int) -> str:
            return str(threads) if threads else f"0 (TensorFlow's default: {self.schedulable_cpus})"

        return f"intra-op {size(self.intra_op_threads)}, inter-op {size(self.inter_op_threads)}"


def schedulable_cpus() -> int:
    """Return the number of CPUs this process may run on, as TensorFlow counts them for its default pool sizes."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def current_thread_pools() -> ThreadPools:
    """Return the pool sizes TensorFlow's runtime uses (or will use, if it has not started yet)."""
    return ThreadPools(
        intra_op_threads=tf.config.threading.get_intra_op_parallelism_threads(),
        inter_op_threads=tf.config.threading.get_inter_op_parallelism_threads(),
        schedulable_cpus=schedulable_cpus(),
    )


def set_thread_pools(intra_op_threads: int, inter_op_threads: int) -> ThreadPools:
    """Return the pool sizes in effect after asking for these (0: leave TensorFlow's default).

    Raises `ThreadSettingsError` when the runtime already started with other sizes: TensorFlow's own
    RuntimeError says neither which sizes are in effect nor what to do about it.
    """
    for name, threads in (("intra_op_threads", intra_op_threads), ("inter_op_threads", inter_op_threads)):
        if threads < 0:
            raise ValueError(f"{name} must be >= 0 (0: TensorFlow's default), got {threads}")
    setters = (
        (intra_op_threads, tf.config.threading.set_intra_op_parallelism_threads),
        (inter_op_threads, tf.config.threading.set_inter_op_parallelism_threads),
    )
    for threads, setter in setters:
        if not threads:
            continue  # 0 is the default already; setting it after the start would raise for nothing
        try:
            setter(threads)
        except RuntimeError as error:
            raise ThreadSettingsError(
                f"cannot use intra-op {intra_op_threads} / inter-op {inter_op_threads} threads: TensorFlow's "
                f"runtime already started in this process with {current_thread_pools().describe()} ({error}); "
                "set the thread counts before anything runs a TensorFlow op or loads a model"
            ) from error
    return current_thread_pools()
