"""Keras serialisation for the layers built from a `Wav2Vec2Config`: the config travels as its HF dictionary.

Every layer of the model is registered under the `wav2vec2>` package name, so `model.save("m.keras")` and
`keras.models.load_model("m.keras")` round-trip it (the checkpoint formats users exchange stay HF's, via
`save_pretrained`).
"""

from __future__ import annotations

from typing import Any

import keras

from wav2vec2.config import Wav2Vec2Config

register = keras.saving.register_keras_serializable(package="wav2vec2")


class ConfigSerializable:
    """Mixin: `get_config` stores `self.config` as a dict, `from_config` rebuilds the dataclass."""

    config: Wav2Vec2Config

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "config": self.config.to_dict()}  # type: ignore[misc]

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Any:
        values = dict(config)
        return cls(Wav2Vec2Config.from_dict(values.pop("config")), **values)
