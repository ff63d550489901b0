"""`asr train`: CTC fine-tuning (or training from a config) on TFRecords under a tf.distribute strategy."""

from __future__ import annotations

import argparse
import logging

from cli.errors import input_errors
from cli.run_options import add_run_arguments, run_config

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
    add_run_arguments(
        parser,
        pretrained_help="HF checkpoint directory or hub id to fine-tune",
        config_help="model config.json: random initialisation",
        data_help="training TFRecord glob(s)",
        out_help="run directory (checkpoints, logs, best/)",
        override_example="layerdrop=0.05 or mask_time_prob=0.065",
        numeric_flags=[
            ("--eval-every", int, "steps between evaluations"),
            ("--max-eval-batches", int, "evaluate on at most this many batches"),
            ("--eval-batch-size", int, "evaluation batch size"),
        ],
    )
    parser.add_argument("--vocab", help="vocab.json of the output characters (new vocab → new CTC head)")
    parser.add_argument("--eval-data", help="evaluation TFRecord glob(s)")
    parser.add_argument("--export-name", help="on each new best WER also export a SavedModel under this name")
    parser.add_argument(
        "--no-freeze-feature-extractor",
        dest="freeze_feature_extractor",
        action="store_false",
        default=None,
        help="also train the conv feature encoder (from-scratch models need it)",
    )
    parser.set_defaults(func=run)


# The flags of `asr train` alone that are TrainConfig fields of the same name.
TRAIN_FIELDS = (
    "vocab", "eval_data", "eval_every", "max_eval_batches", "eval_batch_size", "freeze_feature_extractor",
)  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from training.errors import TrainingError
    from training.trainer import Trainer
    from wav2vec2.errors import Wav2Vec2Error

    with input_errors(TrainingError, Wav2Vec2Error):
        config = run_config(args, fields=TRAIN_FIELDS)
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
