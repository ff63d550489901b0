"""The command-line flags of a training run, shared by `asr train` and `asr pretrain`, and their TrainConfig.

Both commands describe a run the same way (a model to start from, data, a run directory, a JSON options file,
model config overrides, the optimizer and loop numbers, the strategy); each adds only its own flags. The order
in which values win is one rule for both: command defaults, then `--options`, then every flag that was given.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cli.errors import CommandError
from training.config import PRECISIONS, STRATEGIES, TrainConfig

NumericFlag = tuple[str, type, str]  # (flag, type, help)

# Every numeric flag is a TrainConfig field of the same name, except these (flag dest -> field).
RENAMED_FIELDS = {"max_duration": "max_duration_s", "min_duration": "min_duration_s"}

LOOP_FLAGS: tuple[NumericFlag, ...] = (
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
    ("--checkpoint-every", int, "steps between checkpoints"),
    ("--seed", int, "shuffle seed"),
)

# Flags whose dest is the TrainConfig field itself, besides the numeric ones.
RUN_FIELDS = (
    "pretrained", "model_config", "train_data", "out_dir", "decay", "precision", "strategy", "tpu_address",
    "fixed_shape", "jit_compile",
)  # fmt: skip


def add_run_arguments(
    parser: argparse.ArgumentParser,
    *,
    pretrained_help: str,
    config_help: str,
    data_help: str,
    out_help: str,
    override_example: str,
    numeric_flags: Iterable[NumericFlag] = (),
) -> None:
    """Adds the flags every training run has; `numeric_flags` are the command's own, listed after the loop's."""
    model = parser.add_mutually_exclusive_group(required=True)
    model.add_argument("--pretrained", help=pretrained_help)
    model.add_argument("--config", dest="model_config", help=config_help)
    parser.add_argument("--data", dest="train_data", required=True, help=data_help)
    parser.add_argument("--out", dest="out_dir", required=True, help=out_help)
    parser.add_argument("--options", help="JSON file of further TrainConfig fields (flags override it)")
    parser.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="FIELD=JSON",
        help=f"model config override, e.g. {override_example}",
    )
    for flag, kind, help_text in (*LOOP_FLAGS, *numeric_flags):
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
    parser.add_argument("--no-progress", action="store_true", help="log lines only, no progress bar")


def run_config(
    args: argparse.Namespace,
    *,
    fields: Iterable[str] = (),
    renamed: Mapping[str, str] | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> TrainConfig:
    """Returns the run's TrainConfig: `defaults`, then the --options file, then every flag that was given.

    `fields` are the command's own flags named after their TrainConfig field, `renamed` maps the others'
    dests to their fields. A bad options file or --override is a `CommandError`; a bad value TrainConfig's own
    `ConfigError`.
    """
    values: dict[str, Any] = dict(defaults or {})
    if args.options:
        try:
            values |= json.loads(Path(args.options).read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise CommandError(f"--options {args.options}: {error}") from error
    loop_fields = [flag.removeprefix("--").replace("-", "_") for flag, _, _ in LOOP_FLAGS]
    for dest in (*RUN_FIELDS, *loop_fields, *fields):
        if getattr(args, dest) is not None:
            values[RENAMED_FIELDS.get(dest, dest)] = getattr(args, dest)
    for dest, field in (renamed or {}).items():
        if getattr(args, dest) is not None:
            values[field] = getattr(args, dest)
    overrides = dict(values.get("config_overrides", {}))
    for item in args.override:
        field, _, raw = item.partition("=")
        try:
            overrides[field] = json.loads(raw)
        except json.JSONDecodeError as error:
            raise CommandError(f"--override {item!r}: the value must be JSON ({error})") from error
    values["config_overrides"] = overrides
    return TrainConfig.from_dict(values)
