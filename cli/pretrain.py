"""`asr pretrain`: wav2vec 2.0 self-supervised pretraining (or continued pretraining) on unlabelled TFRecords."""

from __future__ import annotations

import argparse
import json
import logging

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
    model = parser.add_mutually_exclusive_group(required=True)
    model.add_argument("--pretrained", help="HF pretraining checkpoint (directory or hub id) to continue from")
    model.add_argument("--config", dest="model_config", help="model config.json: pretrain from random init")
    parser.add_argument("--data", dest="train_data", required=True, help="TFRecord glob(s); transcripts ignored")
    parser.add_argument("--out", dest="out_dir", required=True, help="run directory (checkpoints, logs, final/)")
    parser.add_argument("--options", help="JSON file of further TrainConfig fields (flags override it)")
    parser.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="FIELD=JSON",
        help="model config override, e.g. diversity_loss_weight=0.2 or num_negatives=50",
    )
    for flag, kind, help_text in [
        ("--steps", int, "optimizer steps"),
        ("--batch-size", int, "utterances per replica per micro-batch"),
        ("--grad-accum-steps", int, "micro-batches per optimizer step"),
        ("--learning-rate", float, "peak learning rate"),
        ("--warmup-steps", int, "linear warmup steps"),
        ("--weight-decay", float, "AdamW decoupled weight decay"),
        ("--clip-norm", float, "clip gradients to this global norm"),
        ("--max-duration", float, "drop longer utterances (s)"),
        ("--min-duration", float, "drop shorter utterances (s)"),
        ("--shuffle-buffer", int, "utterances in the shuffle buffer"),
        ("--log-every", int, "steps between log lines"),
        ("--checkpoint-every", int, "steps between checkpoints"),
        ("--seed", int, "shuffle seed"),
        ("--max-gumbel-temperature", float, "Gumbel-softmax temperature at step 0 (2.0)"),
        ("--min-gumbel-temperature", float, "temperature floor (0.5)"),
        ("--gumbel-temperature-decay", float, "temperature factor per step (0.999995)"),
        ("--mask-time-prob", float, "HF's mask_prob of the contrastive task: about half the frames at 0.65 (0.65)"),
        ("--mask-time-length", int, "frames per masked span (10)"),
    ]:
        parser.add_argument(flag, type=kind, help=help_text)
    parser.add_argument("--decay", choices=("linear", "cosine", "constant"))
    parser.add_argument("--precision", choices=("auto", "float32", "mixed_float16", "mixed_bfloat16"))
    parser.add_argument("--strategy", choices=("auto", "tpu", "mirrored", "multiworker", "default"))
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
        "--freeze-feature-extractor",
        action="store_true",
        default=None,
        help="keep the conv feature encoder fixed (default: train it, as in the paper)",
    )
    parser.add_argument("--no-progress", action="store_true", help="log lines only, no progress bar")
    parser.set_defaults(func=run)


OPTION_FLAGS = (
    "pretrained", "model_config", "train_data", "out_dir", "steps", "batch_size", "grad_accum_steps",
    "learning_rate", "warmup_steps", "weight_decay", "clip_norm", "shuffle_buffer", "log_every", "checkpoint_every",
    "seed", "decay", "precision", "strategy", "tpu_address", "fixed_shape", "jit_compile", "freeze_feature_extractor",
    "max_gumbel_temperature", "min_gumbel_temperature", "gumbel_temperature_decay",
)  # fmt: skip
RENAMED_FLAGS = {
    "mask_time_prob": "pretrain_mask_time_prob",
    "mask_time_length": "pretrain_mask_time_length",
    "max_duration": "max_duration_s",
    "min_duration": "min_duration_s",
}


def build_values(args: argparse.Namespace) -> dict:
    """Returns the TrainConfig fields of the command line: pretraining defaults (train the feature encoder, as
    the paper does), then the --options file, then the flags."""
    from pathlib import Path

    from training.errors import TrainingError

    values: dict = {"freeze_feature_extractor": False, "checkpoint_every": 500}
    if args.options:
        values |= json.loads(Path(args.options).read_text())
    values |= {name: getattr(args, name) for name in OPTION_FLAGS if getattr(args, name) is not None}
    values |= {field: getattr(args, flag) for flag, field in RENAMED_FLAGS.items() if getattr(args, flag) is not None}
    overrides = dict(values.get("config_overrides", {}))
    for item in args.override:
        field, _, raw = item.partition("=")
        try:
            overrides[field] = json.loads(raw)
        except json.JSONDecodeError as error:
            raise TrainingError(f"--override {item!r}: the value must be JSON ({error})") from error
    values["config_overrides"] = overrides
    return values


def run(args: argparse.Namespace) -> int:
    # TensorFlow loads here, not for `asr --help`
    from training.config import TrainConfig
    from training.errors import TrainingError
    from training.pretrain_task import PretrainTask
    from training.trainer import Trainer
    from wav2vec2.errors import Wav2Vec2Error

    try:
        config = TrainConfig.from_dict(build_values(args))
        trainer = Trainer(config, task=PretrainTask(config))
        result = trainer.train(progress=not args.no_progress)
    except (TrainingError, Wav2Vec2Error) as error:
        print(f"asr pretrain: {error}")
        return 2
    summary = " ".join(f"{name} {value:.4g}" for name, value in result.metrics.items())
    logger.info(
        "finished at step %d, loss %.4f (%s); model in %s/final", result.step, result.loss, summary, config.out_dir
    )
    return 0
