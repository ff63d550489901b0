"""TensorFlow set-up of every process that runs tests: logical CPUs for tf.distribute, and grappler off."""

from __future__ import annotations

import tensorflow as tf


def configure_tensorflow(logical_cpus: int) -> None:
    """Splits the CPU into `logical_cpus` devices and turns grappler's graph rewrites off; before TensorFlow starts.

    Two logical CPUs let MirroredStrategy run two replicas in the test process itself (the replica math of
    `fit`, the trainer and pretraining is checked that way); ops not placed elsewhere still run on CPU:0, on
    the same thread pools. Grappler optimises each new graph on its first call, which pays back over thousands
    of calls; a test calls most of its graphs a few times, so the rewrites were a sixth of the suite's time.
    They do not change what a graph computes.
    """
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * logical_cpus)
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
