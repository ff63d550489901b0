"""Trainer: runs a task (CTCTask, PretrainTask) under a tf.distribute strategy, with checkpoints, TensorBoard,
evaluation and export.

One optimizer step = `grad_accum_steps` micro-batches per replica. Gradients are summed over micro-batches
and replicas (an explicit all-reduce), clipped by their *global* norm, then applied by AdamW
(`training.optimizer.FusedAdamW`); the loss of each replica is already divided by the global batch size, so the
sum is the gradient of the global mean.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import tensorflow as tf
from tqdm import tqdm

from model_export.export import export_saved_model
from training.base_task import Task
from training.config import TrainConfig
from training.evaluate import EvalReport, evaluate_dataset
from training.optimizer import FusedAdamW
from training.schedule import WarmupDecay
from training.strategy import get_strategy, is_chief
from training.task import CTCTask
from wav2vec2 import SAMPLE_RATE_HZ, Wav2Vec2Processor

logger = logging.getLogger(__name__)

# Not decayed: biases, norms and the mask embedding (decaying them only shrinks the scale of activations).
NO_DECAY_NAMES = ["bias", "gamma", "beta", "layer_norm", "masked_spec_embed"]


@dataclass
class TrainResult:
    """What a `train()` call ends with."""

    step: int
    loss: float
    audio_seconds_per_second: float
    evaluations: list[tuple[int, EvalReport]] = field(default_factory=list)
    # The task's metrics at the last log line (pretraining: contrastive_loss, codevector_perplexity, ...).
    metrics: dict[str, float] = field(default_factory=dict)


def resolve_precision(precision: str, strategy: tf.distribute.Strategy) -> str:
    """Returns the Keras dtype policy for `precision`; `auto` is bf16 on TPU, fp16 on GPU, fp32 on CPU."""
    if precision != "auto":
        return precision
    if isinstance(strategy, tf.distribute.TPUStrategy):
        return "mixed_bfloat16"
    return "mixed_float16" if tf.config.list_logical_devices("GPU") else "float32"


def data_position_checkpointable(iterator: object) -> bool:
    """True when `tf.train.Checkpoint` can save the iterator's position (its shuffle buffer included).

    A one-device strategy hands out a plain tf.data iterator, which can; Mirrored, MultiWorkerMirrored and TPU
    strategies hand out a `DistributedIterator`, which TensorFlow does not make trackable.
    """
    return isinstance(iterator, tf.__internal__.tracking.Trackable)


class Trainer:
    """Owns the strategy, model, optimizer, checkpoints and logs of one run directory."""

    def __init__(
        self,
        config: TrainConfig,
        strategy: tf.distribute.Strategy | None = None,
        export_name: str | None = None,
        task: Task | None = None,
    ) -> None:
        """`task` defaults to CTC training; pass a `PretrainTask` for self-supervised pretraining."""
        self.config = config
        self.strategy = strategy or get_strategy(config.strategy, config.tpu_address)
        self.chief = is_chief(self.strategy)
        self.export_name = export_name
        self.out_dir = Path(config.out_dir)
        policy = resolve_precision(config.precision, self.strategy)
        keras.mixed_precision.set_global_policy(policy)
        keras.utils.set_random_seed(config.seed)  # same initial weights on every worker and every rerun
        self.task = task or CTCTask(config)
        self.replicas = self.strategy.num_replicas_in_sync
        self.global_batch_size = config.batch_size * self.replicas * config.grad_accum_steps
        with self.strategy.scope():
            self.model = self.task.build_model()
            self.optimizer = self._build_optimizer(policy)
            self.optimizer.build(self.model.trainable_variables)
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
            self.best_wer = tf.Variable(math.inf, dtype=tf.float32, trainable=False, name="best_wer")
        self.train_dataset = self.strategy.distribute_datasets_from_function(
            lambda context: self.task.build_inputs(config.train_data, training=True, input_context=context)
        )
        self.iterator = iter(self.train_dataset)
        tracked = {"model": self.model, "optimizer": self.optimizer, "step": self.step, "best_wer": self.best_wer}
        if config.checkpoint_data_position:
            if data_position_checkpointable(self.iterator):
                tracked["data"] = self.iterator
            else:
                logger.info(
                    "%s: the data position is not checkpointed (its distributed iterator cannot be saved); a "
                    "resumed run restores the weights, optimizer and step, and starts a new pass over the data",
                    type(self.strategy).__name__,
                )
        self.checkpoint = tf.train.Checkpoint(**tracked)
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, self._checkpoint_dir(), max_to_keep=config.keep_checkpoints, step_counter=self.step
        )
        self._train_step = self._make_train_step()
        logger.info(
            "%s: %d replica(s), per-replica batch %d, accumulation %d → global batch %d, precision %s, "
            "%d trainable parameters",
            type(self.strategy).__name__, self.replicas, config.batch_size, config.grad_accum_steps,
            self.global_batch_size, policy, sum(int(tf.size(v)) for v in self.model.trainable_variables),
        )  # fmt: skip

    def _checkpoint_dir(self) -> str:
        # Every multi-worker replica must take part in saving; only the chief's copy is kept.
        if self.chief:
            return str(self.out_dir / "checkpoints")
        resolver = self.strategy.cluster_resolver
        return os.path.join(tempfile.gettempdir(), f"asr-ckpt-{resolver.task_type}-{resolver.task_id}-{os.getpid()}")

    def _build_optimizer(self, policy: str) -> keras.optimizers.Optimizer:
        config = self.config
        schedule = WarmupDecay(config.learning_rate, min(config.warmup_steps, config.steps), config.steps, config.decay)
        optimizer = FusedAdamW(
            learning_rate=schedule, weight_decay=config.weight_decay, beta_1=0.9, beta_2=0.98, epsilon=1e-8
        )
        optimizer.exclude_from_weight_decay(var_names=NO_DECAY_NAMES)
        if policy == "mixed_float16":
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        return optimizer

    def _loss_scale(self) -> tf.Tensor:
        if isinstance(self.optimizer, keras.optimizers.LossScaleOptimizer):
            return tf.convert_to_tensor(self.optimizer.dynamic_scale)
        return tf.constant(1.0)

    def _make_train_step(self):
        model, task, optimizer, config = self.model, self.task, self.optimizer, self.config
        global_batch_size = self.global_batch_size
        replicas = self.replicas

        def replica_step(batches: tuple[dict[str, tf.Tensor], ...]):
            loss_scale = self._loss_scale()
            total_loss, summed, metrics = tf.constant(0.0), None, {}
            for batch in batches:
                loss, grads, batch_metrics = task.gradients(model, batch, global_batch_size, loss_scale)
                total_loss += loss
                summed = grads if summed is None else [a + g for a, g in zip(summed, grads, strict=True)]
                for name, value in batch_metrics.items():
                    metrics[name] = metrics.get(name, 0.0) + value / len(batches)
            if replicas > 1:
                summed = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, summed)
            clipped, norm = tf.clip_by_global_norm(summed, config.clip_norm * loss_scale)
            # The Keras optimizer all-reduces (sums) again; the grads are already global, so hand it 1/R each.
            optimizer.apply_gradients(zip([g / replicas for g in clipped], model.trainable_variables, strict=True))
            audio_seconds = tf.add_n([tf.reduce_sum(b["audio_length"]) for b in batches])
            return total_loss, norm / loss_scale, tf.cast(audio_seconds, tf.float32) / SAMPLE_RATE_HZ, metrics

        # autograph=False: the step's control flow is Python over Python values (micro-batches, layers); tensor
        # control flow is TF ops. Skipping autograph's conversion cuts the trace by about a third.
        @tf.function(jit_compile=config.jit_compile or None, autograph=False)
        def replica_step_compiled(batches):
            return replica_step(batches)

        @tf.function(autograph=False)
        def train_step(iterator):
            batches = tuple(next(iterator) for _ in range(config.grad_accum_steps))
            step_fn = replica_step_compiled if config.jit_compile else replica_step
            loss, norm, audio_s, metrics = self.strategy.run(step_fn, args=(batches,))
            self.step.assign_add(1)
            return (
                self.strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None),
                self.strategy.reduce(tf.distribute.ReduceOp.MEAN, norm, axis=None),
                self.strategy.reduce(tf.distribute.ReduceOp.SUM, audio_s, axis=None),
                {
                    name: self.strategy.reduce(tf.distribute.ReduceOp.MEAN, value, axis=None)
                    for name, value in metrics.items()
                },
            )

        return train_step

    def restore(self) -> int:
        """Restores the latest checkpoint of the run directory, if any; returns the step training resumes at.

        Every worker reads the chief's checkpoints (the run directory is shared storage, a bucket on a
        cluster): a multi-worker replica that started from its own scratch directory would step from other
        weights than the chief and break the all-reduce.
        """
        path = tf.train.latest_checkpoint(str(self.out_dir / "checkpoints"))
        if path:
            self.checkpoint.restore(path)
            logger.info("resumed from %s at step %d", path, int(self.step.numpy()))
        return int(self.step.numpy())

    def train(self, progress: bool = True) -> TrainResult:
        """Trains up to `config.steps` optimizer steps from wherever the run directory's checkpoint left off."""
        config = self.config
        start = self.restore()
        writer = (
            tf.summary.create_file_writer(str(self.out_dir / "logs" / "train"))
            if self.chief
            else tf.summary.create_noop_writer()
        )
        result = TrainResult(step=start, loss=math.nan, audio_seconds_per_second=0.0)
        window_start, window_audio_s, window_steps = time.perf_counter(), 0.0, 0
        total_time, total_audio = 0.0, 0.0
        bar = tqdm(total=config.steps, initial=start, desc="train", unit="step", disable=not (progress and self.chief))
        with writer.as_default():
            while int(self.step.numpy()) < config.steps:
                self.task.on_step_begin(self.model, int(self.step.numpy()))
                loss, norm, audio_s, metrics = self._train_step(self.iterator)
                step = int(self.step.numpy())
                result.step, result.loss = step, float(loss)
                window_audio_s += float(audio_s)
                window_steps += 1
                bar.update(1)
                if not math.isfinite(result.loss):
                    logger.warning("step %d: loss is %s", step, result.loss)
                if step % config.log_every == 0 or step == config.steps:
                    elapsed = time.perf_counter() - window_start
                    learning_rate = float(self.optimizer.learning_rate)
                    result.metrics = {name: float(value) for name, value in metrics.items()}
                    logger.info(
                        "step %d/%d loss %.4f grad_norm %.3f lr %.3g%s | %.2f steps/s, %.1f audio s/s",
                        step, config.steps, result.loss, float(norm), learning_rate,
                        "".join(f" {name} {value:.4g}" for name, value in result.metrics.items()),
                        window_steps / elapsed, window_audio_s / elapsed,
                    )  # fmt: skip
                    for name, value in result.metrics.items():
                        tf.summary.scalar(name, value, step=step)
                    bar.set_postfix(loss=f"{result.loss:.3f}", audio_s_per_s=f"{window_audio_s / elapsed:.1f}")
                    tf.summary.scalar("loss", loss, step=step)
                    tf.summary.scalar("grad_norm", norm, step=step)
                    tf.summary.scalar("learning_rate", learning_rate, step=step)
                    tf.summary.scalar("audio_seconds_per_second", window_audio_s / elapsed, step=step)
                    total_time += elapsed
                    total_audio += window_audio_s
                    window_start, window_audio_s, window_steps = time.perf_counter(), 0.0, 0
                paused_at = time.perf_counter()
                if config.eval_data and (step % config.eval_every == 0 or step == config.steps):
                    report = self.evaluate_and_export(step)
                    if report is not None:
                        result.evaluations.append((step, report))
                if step % config.checkpoint_every == 0 or step == config.steps:
                    self.manager.save(checkpoint_number=step)
                window_start += time.perf_counter() - paused_at  # throughput counts training time only
        bar.close()
        result.audio_seconds_per_second = total_audio / total_time if total_time else 0.0
        if self.chief:
            self.save_pretrained(self.out_dir / "final")
        return result

    def save_pretrained(self, directory: Path) -> None:
        """Writes the model in HF layout with what the task's users read beside it (vocabulary, preprocessor)."""
        self.task.save_pretrained(self.model, directory)

    def evaluate_and_export(self, step: int) -> EvalReport | None:
        """Evaluates on the chief; on a new best WER saves `best/` and, if asked, exports a SavedModel."""
        if not self.chief:
            return None
        dataset = self.task.build_inputs(self.config.eval_data, training=False)
        report = evaluate_dataset(self.model, self.task.tokenizer, dataset, max_batches=self.config.max_eval_batches)
        logger.info(
            "step %d eval: WER %.4f CER %.4f over %d utterances", step, report.wer, report.cer, len(report.utterances)
        )
        writer = tf.summary.create_file_writer(str(self.out_dir / "logs" / "eval"))
        with writer.as_default():
            tf.summary.scalar("wer", report.wer, step=step)
            tf.summary.scalar("cer", report.cer, step=step)
        writer.flush()
        if report.wer < float(self.best_wer.numpy()):
            self.best_wer.assign(report.wer)
            self.save_pretrained(self.out_dir / "best")
            report.write_json(self.out_dir / "best" / "eval_report.json")
            self._export_best(step)
        return report

    def _export_best(self, step: int) -> None:
        if self.export_name is None:
            return
        processor = Wav2Vec2Processor(tokenizer=self.task.tokenizer)
        export_saved_model(self.model, processor, self.out_dir / "export", self.export_name, step)
