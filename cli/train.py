"""`asr train`: CTC fine-tuning (or training from a config) on TFRecords under a tf.distribute strategy."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from cli.errors import input_errors
from training.config import PRECISIONS, STRATEGIES, TrainConfig
from training.errors import TrainingError

logger = logging.getLogger(__name__)

EXAMPLES = """examples:
  # a small model from scratch on this machine's CPU
  asr train --config small.json --data 'data/train/*.tfrecord' --eval-data 'data/dev/*.tfrecord' \\
      --steps 3000 --batch-size 8 --learning-rate 5e-4 --out runs/small --no-freeze-feature-extractor
  # fine-tune base on a TPU VM, data streamed from GCS
  asr train --pretrained facebook/wav2vec2-base --vocab vocab.json --strategy tpu \\
      --data 'gs://bucket/librispeech/train-*.tfrecord' --eval-data 'gs://bucket/librispeech/dev-clean-*' \\
      --batch-size 16 --fixed-shape --steps 20000 --out gs://bucket/runs/base-100h
Re-running the same command resumes from the last checkpoint in --out.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train", help="train a CTC model on TFRecords", description=__doc__, epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    model = parser.add_mutually_exclusive_group(required=True)
    model.add_argument("--pretrained", help="HF checkpoint directory or hub id to fine-tune")
    model.add_argument("--config", dest="model_config", help="model config.json: random initialisation")
    parser.add_argument("--vocab", help="vocab.json of the output characters (new vocab → new CTC head)")
    parser.add_argument("--data", dest="train_data", required=True, help="training TFRecord glob(s)")
    parser.add_argument("--eval-data", help="evaluation TFRecord glob(s)")
    parser.add_argument("--out", dest="out_dir", required=True, help="run directory (checkpoints, logs, best/)")
    parser.add_argument("--options", help="JSON file of further TrainConfig fields (flags override it)")
    parser.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="FIELD=JSON",
        help="model config override, e.g. layerdrop=0.05 or mask_time_prob=0.065",
    )
    parser.add_argument("--export-name", help="on each new best WER also export a SavedModel under this name")
    for flag, kind, help_text in [
        ("--steps", int, "optimizer steps"),
        ("--batch-size", int, "utterances per replica per micro-batch"),
        ("--grad-accum-steps", int, "micro-batches per optimizer step"),
        ("--learning-rate", float, "peak learning rate"),
        ("--warmup-steps", int, "linear warmup steps"),
        ("--weight-decay", float, "AdamW decoupled weight decay"),
        ("--clip-norm", float, "clip gradients to this global norm"),
        ("--max-duration", float, "drop longer training utterances (s)"),
        ("--min-duration", float, "drop shorter training utterances (s)"),
        ("--shuffle-buffer", int, "utterances in the shuffle buffer"),
        ("--log-every", int, "steps between log lines"),
        ("--eval-every", int, "steps between evaluations"),
        ("--checkpoint-every", int, "steps between checkpoints"),
        ("--max-eval-batches", int, "evaluate on at most this many batches"),
        ("--eval-batch-size", int, "evaluation batch size"),
        ("--seed", int, "shuffle seed"),
    ]:
        parser.add_argument(flag, type=kind, help=help_text)
    parser.add_argument("--decay", choices=("linear", "cosine", "constant"))
    parser.add_argument("--precision", choices=PRECISIONS)
    parser.add_argument("--strategy", choices=STRATEGIES)
    parser.add_argument("--tpu", dest="tpu_address", help="TPU name or grpc:// address (default: this TPU VM)")
    parser.add_argument("--fixed-shape", action="store_true", default=None, help="pad to bucket bounds (TPU)")
    parser.add_argument(
        "--jit",
        dest="jit_compile",
        action="store_true",
        default=None,
        help="XLA-compile the step (use with --fixed-shape)",
    )
    parser.add_argument(
        "--no-freeze-feature-extractor",
        dest="freeze_feature_extractor",
        action="store_false",
        default=None,
        help="also train the conv feature encoder (from-scratch models need it)",
    )
    parser.add_argument("--no-progress", action="store_true", help="log lines only, no progress bar")
    parser.set_defaults(func=run)


OPTION_FLAGS = (
    "pretrained", "model_config", "vocab", "train_data", "eval_data", "out_dir", "steps", "batch_size",
    "grad_accum_steps", "learning_rate", "warmup_steps", "weight_decay", "clip_norm", "shuffle_buffer",
    "log_every", "eval_every", "checkpoint_every", "max_eval_batches", "eval_batch_size", "seed", "decay",
    "precision", "strategy", "tpu_address", "fixed_shape", "jit_compile", "freeze_feature_extractor",
)  # fmt: skip


def build_config(args: argparse.Namespace) -> TrainConfig:
    """Returns the TrainConfig of the command line: --options file, then every flag that was given."""
    try:
        values = json.loads(Path(args.options).read_text()) if args.options else {}
    except (OSError, json.JSONDecodeError) as error:
        raise TrainingError(f"--options {args.options}: {error}") from error
    values |= {name: getattr(args, name) for name in OPTION_FLAGS if getattr(args, name) is not None}
    if args.max_duration is not None:
        values["max_duration_s"] = args.max_duration
    if args.min_duration is not None:
        values["min_duration_s"] = args.min_duration
    overrides = dict(values.get("config_overrides", {}))
    for item in args.override:
        field, _, raw = item.partition("=")
        try:
            overrides[field] = json.loads(raw)
        except json.JSONDecodeError as error:
            raise TrainingError(f"--override {item!r}: the value must be JSON ({error})") from error
    values["config_overrides"] = overrides
    return TrainConfig.from_dict(values)


def run(args: argparse.Namespace) -> int:
    from training.trainer import Trainer
    from wav2vec2.errors import Wav2Vec2Error

    with input_errors(TrainingError, Wav2Vec2Error):
        config = build_config(args)
        trainer = Trainer(config, export_name=args.export_name)
        result = trainer.train(progress=not args.no_progress)
    logger.info(
        "finished at step %d, loss %.4f, %.1f audio s/s; model in %s/final",
        result.step,
        result.loss,
        result.audio_seconds_per_second,
        config.out_dir,
    )
    for step, report in result.evaluations[-1:]:
        logger.info("last evaluation (step %d): WER %.4f CER %.4f", step, report.wer, report.cer)
    return 0
