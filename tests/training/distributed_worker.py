"""Runs a few training steps under one or more strategies in its own process; saves each run's losses and weights.

A separate process because logical CPU devices and multi-worker collectives must be configured before
TensorFlow starts, which a pytest process has long done. Usage:
    python -m tests.training.distributed_worker LOGICAL_CPUS CORPUS_DIR STRATEGY:PER_REPLICA_BATCH:OUT.npz [...]
Runs one after the other in this process (one TensorFlow start-up for all), each from the same seeded initial
weights; TF_CONFIG in the environment for `multiworker`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from tests.support.test_process import configure_tensorflow


def train(strategy_name: str, batch_size: int, out: str, corpus: Path) -> None:
    from training.config import TrainConfig
    from training.strategy import get_strategy
    from training.trainer import Trainer

    strategy = get_strategy(strategy_name)
    config = TrainConfig(
        out_dir=str(Path(out).parent / f"run-{Path(out).stem}"), train_data=str(corpus / "rec" / "*.tfrecord"),
        model_config=str(corpus / "model.json"), vocab=str(corpus / "vocab.json"), steps=2, batch_size=batch_size,
        learning_rate=1e-3, warmup_steps=0, decay="constant", weight_decay=0.0, bucket_boundaries_s=None,
        shuffle_buffer=1, deterministic=True, seed=3, freeze_feature_extractor=False, precision="float32",
        log_every=1, checkpoint_every=2,
    )  # fmt: skip
    trainer = Trainer(config, strategy=strategy)
    losses = [float(trainer._train_step(trainer.iterator)[0]) for _ in range(config.steps)]
    np.savez(
        out,
        losses=np.array(losses),
        replicas=strategy.num_replicas_in_sync,
        **{f"w{i}": v.numpy() for i, v in enumerate(trainer.model.weights)},
    )


def main(logical_cpus: int, corpus_dir: str, runs: list[str]) -> None:
    configure_tensorflow(logical_cpus)
    for run in runs:
        strategy_name, batch_size, out = run.split(":", 2)
        train(strategy_name, int(batch_size), out, Path(corpus_dir))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3:])
