"""One string → one `tf.distribute.Strategy`: `auto`, `tpu`, `mirrored`, `multiworker`, `default`."""

from __future__ import annotations

import json
import logging
import os

import tensorflow as tf

from training.config import STRATEGIES
from training.errors import ConfigError

logger = logging.getLogger(__name__)


def get_strategy(name: str = "auto", tpu_address: str | None = None) -> tf.distribute.Strategy:
    """Returns the strategy named by `name`; `auto` picks TPU, then multi-worker, then GPUs, then one device.

    `tpu` connects through `TPUClusterResolver(tpu_address)` (empty: the TPU VM this runs on, or the
    `TPU_NAME` environment of a Cloud TPU node). `multiworker` reads the cluster from `TF_CONFIG`; it must be
    created before any other TensorFlow op runs in the process.
    """
    if name not in STRATEGIES:
        raise ConfigError(f"strategy={name!r} is not one of {STRATEGIES}")
    if name == "auto":
        name = _detect()
        logger.info("strategy auto → %s", name)
    if name == "tpu":
        return _tpu_strategy(tpu_address)
    if name == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise ConfigError("strategy=multiworker needs the cluster in the TF_CONFIG environment variable")
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "mirrored":
        # Without GPUs, mirror over the logical CPUs (tests split one CPU in two to check the replica math).
        gpus = tf.config.list_logical_devices("GPU")
        devices = gpus or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy(devices=[device.name for device in devices])
    return tf.distribute.get_strategy()


def _tpu_strategy(tpu_address: str | None) -> tf.distribute.TPUStrategy:
    """Connects to the TPU; no TPU to reach is a `ConfigError` that names the flag, not TensorFlow's traceback."""
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu_address or "")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, tf.errors.OpError) as error:
        if tpu_address:
            raise ConfigError(f"strategy=tpu: TPU {tpu_address!r} is not reachable ({error})") from error
        raise ConfigError(f"strategy=tpu: no TPU found ({error}); run on a TPU VM or name one with --tpu") from error
    return tf.distribute.TPUStrategy(resolver)


def _detect() -> str:
    if os.environ.get("TPU_NAME") or os.path.exists("/dev/accel0") or os.environ.get("COLAB_TPU_ADDR"):
        return "tpu"
    cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    if sum(len(tasks) for tasks in cluster.values()) > 1:
        return "multiworker"
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return "mirrored"
    return "default"


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """True on the worker that writes checkpoints, logs and evaluations (worker 0, or the only one)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    return resolver.task_type == "chief" or (
        resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in resolver.cluster_spec().as_dict()
    )
