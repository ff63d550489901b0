"""Loading and saving `Wav2Vec2ForCTC` and `Wav2Vec2ForPreTraining` weights in Hugging Face's checkpoint layout."""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from wav2vec2.config import Wav2Vec2Config
from wav2vec2.errors import CheckpointMismatchError, CheckpointNotFoundError
from wav2vec2.hub import resolve_checkpoint_dir
from wav2vec2.weight_map import canonical_name, to_keras, to_torch_layout, weight_entries

logger = logging.getLogger(__name__)


def read_state_dict(directory: Path) -> dict[str, np.ndarray]:
    """All tensors of a checkpoint as float32 NumPy arrays, keyed by canonical HF name.

    safetensors loads without torch; a `pytorch_model.bin` needs torch, at conversion time only.
    """
    safetensors_path = directory / "model.safetensors"
    bin_path = directory / "pytorch_model.bin"
    if safetensors_path.exists():
        from safetensors.numpy import load_file

        tensors = load_file(str(safetensors_path))
    elif bin_path.exists():
        try:
            import torch
        except ImportError as error:
            raise CheckpointNotFoundError(
                f"{bin_path} is a PyTorch pickle and reading it needs torch (pip install torch); "
                "convert it once with `asr convert` and use the safetensors result without torch"
            ) from error
        state = torch.load(str(bin_path), map_location="cpu", weights_only=True)
        tensors = {name: value.float().numpy() for name, value in state.items()}
    else:
        raise CheckpointNotFoundError(f"{directory} has neither model.safetensors nor pytorch_model.bin")
    state = {canonical_name(name): np.asarray(value, dtype=np.float32) for name, value in tensors.items()}
    return with_body_prefix(state)


# What HF's task models (ForCTC, ForPreTraining) call the body; `transformers.Wav2Vec2Model` saves it unprefixed.
BODY_PREFIX = "wav2vec2."


def with_body_prefix(state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The state dict of a body-only checkpoint (`transformers.Wav2Vec2Model.save_pretrained`) under task-model
    names; a task-model checkpoint unchanged."""
    if any(name.startswith(BODY_PREFIX) for name in state):
        return state
    return {BODY_PREFIX + name: value for name, value in state.items()}


def load_weights_from_state_dict(model: Any, state: dict[str, np.ndarray]) -> None:
    """Assigns every mapped tensor, checking shapes; reports what the checkpoint lacks or has in excess."""
    model.build_weights()
    used: set[str] = set()
    entries = weight_entries(model)
    if any(entry.hf_name.startswith("lm_head.") for entry in entries) and "lm_head.weight" not in state:
        # A Python warning, not a log record: it reaches a user whose program configures no logging as
        # "file:line: UserWarning: ...", at their `from_pretrained` call, instead of as a bare line.
        warnings.warn(
            "the checkpoint has no CTC head (a pretrained-only or Wav2Vec2Model checkpoint): created a fresh one "
            f"with {model.config.vocab_size} tokens; it transcribes nothing until fine-tuned",
            UserWarning,
            stacklevel=4,  # this function ← load_pretrained_model ← from_pretrained ← the caller
        )
    for entry in entries:
        if entry.hf_name not in state:
            if entry.optional:
                logger.debug("%s not in the checkpoint: keeping its initial values", entry.hf_name)
                continue
            raise CheckpointMismatchError(f"checkpoint has no tensor {entry.hf_name!r}")
        value = to_keras(state[entry.hf_name], entry.transform)
        if tuple(value.shape) != tuple(entry.variable.shape):
            if entry.optional:
                logger.warning(
                    "%s has shape %s in the checkpoint but %s here (new vocabulary?): keeping its initial values",
                    entry.hf_name, value.shape, tuple(entry.variable.shape),
                )  # fmt: skip
                continue
            raise CheckpointMismatchError(
                f"{entry.hf_name}: checkpoint shape {value.shape} != model shape {tuple(entry.variable.shape)}"
            )
        entry.variable.assign(value)
        used.add(entry.hf_name)
    unused = sorted(set(state) - used)
    if unused:
        # Pretraining checkpoints carry a quantizer and projection heads that a CTC model does not use.
        logger.info(
            "ignored %d checkpoint tensors not used by %s, e.g. %s", len(unused), type(model).__name__, unused[:3]
        )


def load_pretrained_model(cls: type, name_or_path: str | Path, **config_overrides: Any) -> Any:
    directory = resolve_checkpoint_dir(name_or_path)
    config = Wav2Vec2Config.from_json_file(directory / "config.json")
    if config_overrides:
        config = config.replace(**config_overrides)
    model = cls(config)
    load_weights_from_state_dict(model, read_state_dict(directory))
    return model


def model_state_dict(model: Any) -> dict[str, np.ndarray]:
    """The model's weights under HF names and PyTorch layouts."""
    model.build_weights()
    return {
        entry.hf_name: np.ascontiguousarray(to_torch_layout(np.asarray(entry.variable.numpy()), entry.transform))
        for entry in weight_entries(model)
    }


def save_pretrained_model(model: Any, directory: str | Path) -> None:
    from safetensors.numpy import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = model.config.to_dict()
    config["architectures"] = [type(model).__name__]  # our class names are HF's
    (directory / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    save_file(model_state_dict(model), str(directory / "model.safetensors"), metadata={"format": "pt"})
