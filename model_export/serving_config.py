"""The models a TF Serving model config file lists (`--model_config_file`, docker/models.config), without TensorFlow.

A gateway in front of TF Serving serves the models TF Serving serves: reading the same file keeps one list of
names and base paths, where TF Serving finds each model's versions and the gateway its assets (vocabulary, frame
rate, language model). The file is the official `tensorflow.serving.ModelServerConfig` in protobuf text format,
parsed here with the message from `model_export.serving_api`, so what TF Serving accepts is what is read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from google.protobuf import text_format

from model_export.errors import ModelConfigError
from model_export.serving_api import message

__all__ = ["ConfiguredModel", "read_model_config_list"]


@dataclass(frozen=True)
class ConfiguredModel:
    """One `config { name base_path }` entry: the model's name in TF Serving and its folder of versions."""

    name: str
    base_path: Path


def read_model_config_list(config_file: Path) -> list[ConfiguredModel]:
    """Returns the models `config_file` lists, in its order; raises `ModelConfigError` for a file TF Serving
    would refuse or one that names no model."""
    try:
        text = config_file.read_text()
    except OSError as error:
        raise ModelConfigError(f"cannot read the TF Serving model config {config_file}: {error}") from error
    config = message("tensorflow.serving.ModelServerConfig")()
    try:
        text_format.Parse(text, config)
    except text_format.ParseError as error:
        raise ModelConfigError(f"{config_file} is not a TF Serving model config: {error}") from error
    if config.WhichOneof("config") != "model_config_list" or not config.model_config_list.config:
        raise ModelConfigError(f"{config_file} lists no model: expected `model_config_list {{ config {{ ... }} }}`")
    models: list[ConfiguredModel] = []
    for entry in config.model_config_list.config:
        if not entry.name or not entry.base_path:
            raise ModelConfigError(f"{config_file}: every config needs a name and a base_path, got {entry}")
        if any(model.name == entry.name for model in models):
            raise ModelConfigError(f"{config_file} lists the model {entry.name!r} twice")
        models.append(ConfiguredModel(entry.name, Path(entry.base_path)))
    return models
