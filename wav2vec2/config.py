"""Wav2Vec2Config: every hyper-parameter that changes the model's function, with Hugging Face's field names."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# wav2vec 2.0 is trained on 16 kHz audio: the model's input rate. The one definition; every package imports it
# (`from wav2vec2 import SAMPLE_RATE_HZ`, which does not import TensorFlow).
SAMPLE_RATE_HZ = 16_000

FEAT_EXTRACT_NORMS = ("group", "layer")
ACTIVATIONS = ("gelu", "gelu_new", "relu", "swish", "silu")


@dataclass(frozen=True)
class Wav2Vec2Config:
    """The dimensions of a wav2vec 2.0 CTC model; defaults are facebook/wav2vec2-base-960h's."""

    vocab_size: int = 32
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout: float = 0.1
    activation_dropout: float = 0.1
    attention_dropout: float = 0.1
    feat_proj_dropout: float = 0.0
    final_dropout: float = 0.1
    layerdrop: float = 0.1
    layer_norm_eps: float = 1e-5
    feat_extract_norm: str = "group"
    feat_extract_activation: str = "gelu"
    conv_dim: tuple[int, ...] = (512, 512, 512, 512, 512, 512, 512)
    conv_stride: tuple[int, ...] = (5, 2, 2, 2, 2, 2, 2)
    conv_kernel: tuple[int, ...] = (10, 3, 3, 3, 3, 2, 2)
    conv_bias: bool = False
    num_conv_pos_embeddings: int = 128
    num_conv_pos_embedding_groups: int = 16
    do_stable_layer_norm: bool = False
    apply_spec_augment: bool = True
    mask_time_prob: float = 0.05
    mask_time_length: int = 10
    mask_time_min_masks: int = 2
    mask_feature_prob: float = 0.0
    mask_feature_length: int = 10
    mask_feature_min_masks: int = 0
    pad_token_id: int = 0
    bos_token_id: int = 1
    eos_token_id: int = 2
    ctc_loss_reduction: str = "sum"
    ctc_zero_infinity: bool = False
    # Pretraining (Wav2Vec2ForPreTraining): G codebooks of V entries, concatenated to codevector_dim, both
    # sides projected to proj_codevector_dim; K negatives per masked frame; loss = L_m + α L_d (paper §3.2-3.3).
    num_codevector_groups: int = 2
    num_codevectors_per_group: int = 320
    codevector_dim: int = 256
    proj_codevector_dim: int = 256
    contrastive_logits_temperature: float = 0.1
    num_negatives: int = 100
    diversity_loss_weight: float = 0.1
    feat_quantizer_dropout: float = 0.0
    # Fields we do not use but keep so that a config.json survives a load/save round trip unchanged.
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.feat_extract_norm not in FEAT_EXTRACT_NORMS:
            raise ValueError(f"feat_extract_norm={self.feat_extract_norm!r} is not one of {FEAT_EXTRACT_NORMS}")
        for name in ("hidden_act", "feat_extract_activation"):
            if getattr(self, name) not in ACTIVATIONS:
                raise ValueError(f"{name}={getattr(self, name)!r} is not one of {ACTIVATIONS}")
        if not len(self.conv_dim) == len(self.conv_stride) == len(self.conv_kernel):
            raise ValueError(
                "conv_dim, conv_stride and conv_kernel must have one entry per conv block, got lengths "
                f"{len(self.conv_dim)}, {len(self.conv_stride)}, {len(self.conv_kernel)}"
            )
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"hidden_size={self.hidden_size} is not divisible by num_attention_heads={self.num_attention_heads}"
            )
        if self.hidden_size % self.num_conv_pos_embedding_groups:
            raise ValueError(
                f"hidden_size={self.hidden_size} is not divisible by "
                f"num_conv_pos_embedding_groups={self.num_conv_pos_embedding_groups}"
            )
        if self.codevector_dim % self.num_codevector_groups:
            raise ValueError(
                f"codevector_dim={self.codevector_dim} is not divisible by "
                f"num_codevector_groups={self.num_codevector_groups}"
            )
        if self.ctc_loss_reduction not in ("sum", "mean"):
            raise ValueError(f"ctc_loss_reduction={self.ctc_loss_reduction!r} is not one of ('sum', 'mean')")

    @property
    def num_feat_extract_layers(self) -> int:
        return len(self.conv_dim)

    @property
    def total_stride(self) -> int:
        """Samples per output frame (320 for the base model: 20 ms at 16 kHz)."""
        stride = 1
        for s in self.conv_stride:
            stride *= s
        return stride

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Wav2Vec2Config:
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        kwargs: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in values.items():
            if key in known:
                kwargs[key] = tuple(value) if isinstance(value, list) else value
            else:
                extra[key] = value
        return cls(**kwargs, extra=extra)

    @classmethod
    def from_json_file(cls, path: str | Path) -> Wav2Vec2Config:
        return cls.from_dict(json.loads(Path(path).read_text()))

    def to_dict(self) -> dict[str, Any]:
        """The HF `config.json` dictionary (unknown fields read earlier are written back)."""
        values: dict[str, Any] = dict(self.extra)
        for f in dataclasses.fields(self):
            if f.name == "extra":
                continue
            value = getattr(self, f.name)
            values[f.name] = list(value) if isinstance(value, tuple) else value
        values["num_feat_extract_layers"] = self.num_feat_extract_layers
        values.setdefault("model_type", "wav2vec2")
        values.setdefault("architectures", ["Wav2Vec2ForCTC"])
        return values

    def to_json_file(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    def replace(self, **changes: Any) -> Wav2Vec2Config:
        return dataclasses.replace(self, **changes)
