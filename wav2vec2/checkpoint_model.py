"""CheckpointModel: the shared base of `Wav2Vec2Model`, `Wav2Vec2ForCTC` and `Wav2Vec2ForPreTraining`.

What HF's `Wav2Vec2PreTrainedModel` is to its classes: building every weight, loading and saving HF checkpoints,
freezing the feature encoder and Keras serialisation, written once. A subclass names its body (`body()`) and the
HF names of its own head's weights (`head_weight_entries`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np

from wav2vec2.config import Wav2Vec2Config
from wav2vec2.lengths import receptive_field
from wav2vec2.serialization import ConfigSerializable
from wav2vec2.weight_map import WeightEntry

# The audio input's shape, recorded by `build_weights`: Keras's `model.export(dir)` and `tf.saved_model.save`
# derive their serving signature from it (`[batch, samples]` float32, any batch, any length).
AUDIO_INPUT_SHAPE = (None, None)


class CheckpointModel(ConfigSerializable, keras.Model):
    """A wav2vec 2.0 model built from a `Wav2Vec2Config` whose weights travel in HF's checkpoint layout."""

    def __init__(self, config: Wav2Vec2Config, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config = config

    def body(self) -> keras.Model:
        """Returns the `Wav2Vec2Model` whose weights HF names `wav2vec2.*`.

        A method, not a property: Keras' `.keras` saving walks properties, and the body's own would be itself.
        """
        return self.wav2vec2

    def head_weight_entries(self) -> list[WeightEntry]:
        """The weights on top of the body with their HF names (none for the body alone)."""
        return []

    def build(self, input_shape: Any = None) -> None:
        """Creates every weight by running the shortest input that gives one frame (also what loading needs).

        Keras' default build, on a model whose layers it cannot build, would mark it built and warn.
        """
        self.call(np.zeros((1, receptive_field(self.config)), np.float32), training=False)

    def build_weights(self) -> CheckpointModel:
        """Creates every weight (`build`: one call on the shortest input that gives one frame); returns the model.

        `build` directly: a first `__call__` would run `build`, then the model once more.
        """
        if not self.built or not self.weights:
            self.build(AUDIO_INPUT_SHAPE)
        return self

    def freeze_feature_extractor(self) -> None:
        """Stops the conv feature encoder from training (the wav2vec 2.0 fine-tuning recipe)."""
        self.body().feature_extractor.trainable = False

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path, **config_overrides: Any) -> Any:
        """Loads an HF checkpoint directory, a hub id, or a directory written by `save_pretrained`.

        `config_overrides` replace config fields (dropout for fine-tuning, a new `vocab_size`). Weights the
        checkpoint lacks but this class may start without (a CTC head) are created fresh, with a warning.
        """
        from wav2vec2.pretrained import load_pretrained_model

        return load_pretrained_model(cls, name_or_path, **config_overrides)

    def save_pretrained(self, directory: str | Path) -> None:
        """Writes `config.json` and `model.safetensors` in HF's layout (transformers loads them too).

        The processor's files (`vocab.json`, `preprocessor_config.json`) are the processor's to write:
        `Wav2Vec2Processor.save_pretrained(directory)`, as in transformers.
        """
        from wav2vec2.pretrained import save_pretrained_model

        save_pretrained_model(self, directory)
