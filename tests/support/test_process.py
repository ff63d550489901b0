"""Set-up for the processes tests start to train under tf.distribute: logical CPUs, and the tests' TF options."""

from __future__ import annotations

import tensorflow as tf


def configure_tensorflow(logical_cpus: int) -> None:
    """Splits the CPU into `logical_cpus` devices (before TF starts) and turns grappler off as in tests/conftest.py.

    These processes train a tiny model for a few steps, where grappler's first-call rewrites cost more than they
    save; what they check (equal losses and weights across strategies) does not depend on them.
    """
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * logical_cpus)
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
