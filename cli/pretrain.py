"""`asr pretrain`: wav2vec 2.0 self-supervised pretraining (or continued pretraining) on unlabelled TFRecords."""

from __future__ import annotations

import argparse
import logging

from cli.errors import input_errors
from cli.run_options import add_run_arguments, run_config

logger = logging.getLogger(__name__)

EXAMPLES = """examples:
  # unlabelled audio → TFRecords → continue pretraining a checkpoint on this machine
  asr prepare --audio-dir my-recordings/ --out data/unlabelled
  asr pretrain --pretrained facebook/wav2vec2-base --data 'data/unlabelled/*.tfrecord' \\
      --steps 2000 --batch-size 8 --learning-rate 5e-5 --out runs/pretrain
  # on a TPU VM: fixed shapes, XLA, data streamed from GCS
  asr pretrain --pretrained facebook/wav2vec2-base --strategy tpu --fixed-shape --jit \\
      --data 'gs://bucket/unlabelled/*.tfrecord' --batch-size 8 --steps 50000 --out gs://bucket/runs/pt
  # then fine-tune from it
  asr train --pretrained runs/pretrain/final --vocab vocab.json --data 'data/train/*.tfrecord' --out runs/ft
Re-running the same command resumes from the last checkpoint in --out. Watch codevector_usage and
codevector_perplexity in the logs: if they fall towards one codeword per group the codebook has collapsed
(raise --override diversity_loss_weight=..., lower the learning rate).
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pretrain", help="self-supervised wav2vec 2.0 pretraining on unlabelled audio TFRecords",
        description=__doc__, epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    add_run_arguments(
        parser,
        pretrained_help="HF pretraining checkpoint (directory or hub id) to continue from",
        config_help="model config.json: pretrain from random init",
        data_help="TFRecord glob(s); transcripts ignored",
        out_help="run directory (checkpoints, logs, final/)",
        override_example="diversity_loss_weight=0.2 or num_negatives=50",
        numeric_flags=[
            ("--max-gumbel-temperature", float, "Gumbel-softmax temperature at step 0 (2.0)"),
            ("--min-gumbel-temperature", float, "temperature floor (0.5)"),
            ("--gumbel-temperature-decay", float, "temperature factor per step (0.999995)"),
            ("--mask-time-prob", float, "HF's mask_prob of the contrastive task: about half the frames at 0.65 (0.65)"),
            ("--mask-time-length", int, "frames per masked span (10)"),
        ],
    )
    parser.add_argument(
        "--freeze-feature-extractor",
        action="store_true",
        default=None,
        help="keep the conv feature encoder fixed (default: train it, as in the paper)",
    )
    parser.set_defaults(func=run)


# The flags of `asr pretrain` alone: TrainConfig fields of the same name, and the renamed ones.
PRETRAIN_FIELDS = (
    "max_gumbel_temperature", "min_gumbel_temperature", "gumbel_temperature_decay", "freeze_feature_extractor",
)  # fmt: skip
PRETRAIN_RENAMED = {"mask_time_prob": "pretrain_mask_time_prob", "mask_time_length": "pretrain_mask_time_length"}
# The paper trains the feature encoder while pretraining; fine-tuning (TrainConfig's default) freezes it.
PRETRAIN_DEFAULTS = {"freeze_feature_extractor": False, "checkpoint_every": 500}


def run(args: argparse.Namespace) -> int:
    # TensorFlow loads here, not for `asr --help`
    from training.errors import TrainingError
    from training.pretrain_task import PretrainTask
    from training.trainer import Trainer
    from wav2vec2.errors import Wav2Vec2Error

    with input_errors(TrainingError, Wav2Vec2Error):
        config = run_config(args, fields=PRETRAIN_FIELDS, renamed=PRETRAIN_RENAMED, defaults=PRETRAIN_DEFAULTS)
        trainer = Trainer(config, task=PretrainTask(config))
        result = trainer.train(progress=not args.no_progress)
    summary = " ".join(f"{name} {value:.4g}" for name, value in result.metrics.items())
    logger.info(
        "finished at step %d, loss %.4f (%s); model in %s/final", result.step, result.loss, summary, config.out_dir
    )
    return 0
