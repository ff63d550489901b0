"""TrainConfig: every option of a training run, loaded once by the CLI and passed down."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from training.data.input_defaults import BUCKET_BOUNDARIES_S, MAX_DURATION_S, MAX_LABEL_LENGTH, SHUFFLE_BUFFER
from training.errors import ConfigError

PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")
STRATEGIES = ("auto", "tpu", "mirrored", "multiworker", "default")


@dataclass(frozen=True)
class TrainConfig:
    """A fine-tuning, from-scratch or pretraining run. Batch sizes are per replica: global = per replica × replicas."""

    out_dir: str
    train_data: str
    eval_data: str | None = None
    # Exactly one of: an HF checkpoint (directory or hub id) to fine-tune, or a config.json for random init.
    pretrained: str | None = None
    model_config: str | None = None
    # vocab.json of the output characters; None keeps the checkpoint's (or base-960h's for a fresh model).
    vocab: str | None = None
    config_overrides: dict[str, Any] = field(default_factory=dict)  # e.g. {"layerdrop": 0.05}
    freeze_feature_extractor: bool = True

    steps: int = 20_000
    batch_size: int = 8
    grad_accum_steps: int = 1
    learning_rate: float = 1e-4
    warmup_steps: int = 500
    decay: str = "linear"
    weight_decay: float = 0.005
    clip_norm: float = 1.0
    # "mean": each utterance's CTC loss divided by its label length (PyTorch/HF "mean"), then averaged over
    # the global batch; "sum": per-utterance sums averaged over the global batch.
    ctc_loss_reduction: str = "mean"
    precision: str = "auto"
    jit_compile: bool = False

    min_duration_s: float = 0.0
    max_duration_s: float = MAX_DURATION_S
    bucket_boundaries_s: tuple[float, ...] | None = BUCKET_BOUNDARIES_S
    fixed_shape: bool = False
    max_label_length: int = MAX_LABEL_LENGTH
    shuffle_buffer: int = SHUFFLE_BUFFER
    seed: int = 0
    deterministic: bool = False
    # Keep the tf.data iterator (its shuffle buffer included) in checkpoints, to resume at the same data
    # position; costs checkpoint size proportional to shuffle_buffer. One device only: the distributed
    # strategies' iterators cannot be checkpointed (the trainer logs that it keeps no position there).
    checkpoint_data_position: bool = True

    log_every: int = 50
    eval_every: int = 1000
    checkpoint_every: int = 1000
    keep_checkpoints: int = 3
    max_eval_batches: int | None = None
    eval_batch_size: int = 8

    strategy: str = "auto"
    tpu_address: str | None = None

    # Pretraining only (`asr pretrain`): the Gumbel-softmax temperature, max × decay^step floored at min
    # (wav2vec 2.0 §4.2: 2 → 0.5 by a factor 0.999995 per update).
    max_gumbel_temperature: float = 2.0
    min_gumbel_temperature: float = 0.5
    gumbel_temperature_decay: float = 0.999995
    # The masks of the contrastive task (§4.2: span starts drawn with p = 0.065 over frames, spans of M = 10;
    # HF counts mask_prob as p × M = 0.65). Run options, not model config: the saved checkpoint keeps its
    # fine-tuning SpecAugment values (`mask_time_prob` 0.05 in facebook/wav2vec2-base).
    pretrain_mask_time_prob: float = 0.65
    pretrain_mask_time_length: int = 10

    def __post_init__(self) -> None:
        if (self.pretrained is None) == (self.model_config is None):
            raise ConfigError("give exactly one of pretrained (fine-tune) or model_config (random init)")
        if self.strategy not in STRATEGIES:
            raise ConfigError(f"strategy={self.strategy!r} is not one of {STRATEGIES}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision={self.precision!r} is not one of {PRECISIONS}")
        if self.ctc_loss_reduction not in ("mean", "sum"):
            raise ConfigError(f"ctc_loss_reduction={self.ctc_loss_reduction!r} is not one of ('mean', 'sum')")
        for name in ("steps", "batch_size", "grad_accum_steps", "log_every", "eval_every", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")

    @classmethod
    def from_json_file(cls, path: str | Path, **overrides: Any) -> TrainConfig:
        return cls.from_dict(json.loads(Path(path).read_text()) | overrides)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Returns the config of a JSON-like dict, rejecting unknown fields by name."""
        values = dict(values)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown training options {unknown}; allowed: {sorted(known)}")
        if isinstance(values.get("bucket_boundaries_s"), list):
            values["bucket_boundaries_s"] = tuple(values["bucket_boundaries_s"])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
