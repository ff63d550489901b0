"""Audio in the form the model wants: 16 kHz float32, normalised over the valid samples, zero-padded."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wav2vec2.config import SAMPLE_RATE_HZ

# TensorFlow (the normalisation's graph ops) is imported by the methods that normalise: `pad_batch` is all the
# TF Serving gateway needs from here, and it runs without TensorFlow (docs/deployment.md, "The slim gateway").


@dataclass(frozen=True)
class AudioBatch:
    """A zero-padded batch: `audio` `[batch, samples]` float32 and `audio_length` `[batch]` int32."""

    audio: np.ndarray
    audio_length: np.ndarray


def pad_batch(utterances: Sequence[np.ndarray], padding_value: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Return `(audio [batch, samples] float32 padded, audio_length [batch] int32)`: the model's batch inputs."""
    arrays = [np.asarray(samples, dtype=np.float32).reshape(-1) for samples in utterances]
    audio_length = np.array([array.shape[0] for array in arrays], dtype=np.int32)
    audio = np.full((len(arrays), int(audio_length.max(initial=0))), padding_value, dtype=np.float32)
    for row, array in enumerate(arrays):
        audio[row, : array.shape[0]] = array
    return audio, audio_length


def feature_extractor_values(directory: Path) -> dict | None:
    """Returns the feature extractor's saved settings in either transformers layout, or None if there are none."""
    processor_path = directory / "processor_config.json"
    if processor_path.exists():
        nested = json.loads(processor_path.read_text()).get("feature_extractor")
        if isinstance(nested, dict):
            return nested
    path = directory / "preprocessor_config.json"
    return json.loads(path.read_text()) if path.exists() else None


class Wav2Vec2FeatureExtractor:
    """Normalises (zero mean, unit variance, HF's epsilon) and pads raw 16 kHz mono audio.

    There is no `return_attention_mask`: `pad` always returns `audio_length`, and the model always masks by it.
    """

    def __init__(
        self,
        sampling_rate: int = SAMPLE_RATE_HZ,
        do_normalize: bool = True,
        padding_value: float = 0.0,
    ) -> None:
        self.sampling_rate = sampling_rate
        self.do_normalize = do_normalize
        self.padding_value = padding_value

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> Wav2Vec2FeatureExtractor:
        """Returns the feature extractor a checkpoint directory was saved with (defaults if it has none).

        transformers 5's `Wav2Vec2Processor.save_pretrained` nests these settings under `"feature_extractor"`
        in `processor_config.json` and writes no `preprocessor_config.json`; older releases, and any
        release's `Wav2Vec2FeatureExtractor.save_pretrained`, write them flat to `preprocessor_config.json`.
        """
        values = feature_extractor_values(Path(directory))
        if values is None:
            return cls()
        return cls(
            sampling_rate=int(values.get("sampling_rate", SAMPLE_RATE_HZ)),
            do_normalize=bool(values.get("do_normalize", True)),
            padding_value=float(values.get("padding_value", 0.0)),
        )

    def save_pretrained(self, directory: str | Path) -> None:
        values = {
            "feature_extractor_type": "Wav2Vec2FeatureExtractor",
            "feature_size": 1,
            "sampling_rate": self.sampling_rate,
            "do_normalize": self.do_normalize,
            "padding_side": "right",
            "padding_value": self.padding_value,
        }
        Path(directory).mkdir(parents=True, exist_ok=True)
        (Path(directory) / "preprocessor_config.json").write_text(json.dumps(values, indent=2) + "\n")

    def pad(self, speech: Sequence[np.ndarray]) -> AudioBatch:
        """Normalises each utterance over its own samples and pads the batch with zeros."""
        if len(speech) == 0:
            raise ValueError("empty batch: pass at least one utterance")
        audio, lengths = pad_batch(speech, self.padding_value)
        if self.do_normalize:
            import tensorflow as tf

            from wav2vec2.normalize import normalize_audio

            audio = normalize_audio(tf.constant(audio), tf.constant(lengths)).numpy()
        return AudioBatch(audio=audio, audio_length=lengths)

    def __call__(self, speech: np.ndarray) -> np.ndarray:
        """One utterance `[samples]` or an unpadded batch `[batch, samples]`, normalised, same shape."""
        array = np.asarray(speech, dtype=np.float32)
        if array.ndim not in (1, 2):
            raise ValueError(f"expected audio of shape [samples] or [batch, samples], got shape {array.shape}")
        if not self.do_normalize:
            return array
        batch = array.reshape(1, -1) if array.ndim == 1 else array
        import tensorflow as tf

        from wav2vec2.normalize import normalize_audio

        return normalize_audio(tf.constant(batch)).numpy().reshape(array.shape)
