"""Finds a checkpoint: a local directory as it is, a Hugging Face Hub id through `huggingface_hub`."""

from __future__ import annotations

import logging
from pathlib import Path

from wav2vec2.errors import CheckpointNotFoundError

logger = logging.getLogger(__name__)

CHECKPOINT_FILES = [
    "config.json",
    "model.safetensors",
    "pytorch_model.bin",
    "vocab.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "preprocessor_config.json",
    "processor_config.json",  # transformers 5 keeps the feature extractor's settings here
]
# pyctcdecode's folder, in repos whose processor is Wav2Vec2ProcessorWithLM: the language model the model
# was published with (ctc_decoding/pyctcdecode_folder.py turns it into the gateway's LM folder).
LANGUAGE_MODEL_FILES = ["language_model/*"]


def resolve_checkpoint_dir(
    name_or_path: str | Path, revision: str | None = None, required_file: str | None = "config.json"
) -> Path:
    """A local directory holding the checkpoint's files, downloading a hub id (cached) if needed."""
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if required_file and not (path / required_file).exists():
            raise CheckpointNotFoundError(f"{path} is a directory but has no {required_file}: not an HF checkpoint")
        return path
    if path.exists():
        raise CheckpointNotFoundError(f"{path} is a file; expected a checkpoint directory or a hub id")
    repo_id = str(name_or_path)
    if repo_id.count("/") > 1 or repo_id.startswith((".", "/")):
        raise CheckpointNotFoundError(f"no checkpoint directory at {repo_id}")
    try:
        from huggingface_hub import snapshot_download

        logger.info("downloading %s from the Hugging Face Hub", repo_id)
        local = snapshot_download(repo_id, revision=revision, allow_patterns=CHECKPOINT_FILES + LANGUAGE_MODEL_FILES)
    except Exception as error:  # huggingface_hub raises many types: offline, 404, gated, auth
        raise CheckpointNotFoundError(
            f"{repo_id!r} is not a local directory and could not be fetched from the Hugging Face Hub "
            f"({type(error).__name__}: {error}). Download it where the network allows "
            "(`huggingface-cli download ID --local-dir DIR`) and pass the directory."
        ) from error
    return Path(local)
