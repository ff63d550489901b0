"""Wav2Vec2Processor: the feature extractor and the tokenizer of one checkpoint, behind one object."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from wav2vec2.feature_extractor import AudioBatch, Wav2Vec2FeatureExtractor
from wav2vec2.hub import resolve_checkpoint_dir
from wav2vec2.tokenizer import Wav2Vec2CTCTokenizer


class Wav2Vec2Processor:
    """Prepares audio for the model and turns its CTC ids into text.

    `is_tokenizer` keeps the seed library's call style: `Wav2Vec2Processor(is_tokenizer=False)(speech)`
    normalises audio, `Wav2Vec2Processor(is_tokenizer=True)(text)` encodes text; `decode` works on either.
    Without arguments it uses wav2vec2-base-960h's settings and vocabulary; `from_pretrained(dir_or_hub_id)`
    reads a checkpoint's feature extractor settings (`preprocessor_config.json`, or transformers 5's
    `processor_config.json`) and `vocab.json`.
    """

    def __init__(
        self,
        is_tokenizer: bool = False,
        feature_extractor: Wav2Vec2FeatureExtractor | None = None,
        tokenizer: Wav2Vec2CTCTokenizer | None = None,
    ) -> None:
        self.is_tokenizer = is_tokenizer
        self.feature_extractor = feature_extractor or Wav2Vec2FeatureExtractor()
        self.tokenizer = tokenizer or Wav2Vec2CTCTokenizer()

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path, is_tokenizer: bool = False) -> Wav2Vec2Processor:
        directory = resolve_checkpoint_dir(name_or_path, required_file=None)
        tokenizer = Wav2Vec2CTCTokenizer.from_pretrained(directory) if (directory / "vocab.json").exists() else None
        return cls(is_tokenizer, Wav2Vec2FeatureExtractor.from_pretrained(directory), tokenizer)

    def save_pretrained(self, directory: str | Path) -> None:
        self.feature_extractor.save_pretrained(directory)
        self.tokenizer.save_pretrained(directory)

    @property
    def sampling_rate(self) -> int:
        return self.feature_extractor.sampling_rate

    def __call__(self, inputs: np.ndarray | str | Sequence[str]) -> np.ndarray | list[int] | list[list[int]]:
        if self.is_tokenizer:
            return self.tokenizer(inputs)  # type: ignore[arg-type]
        return self.feature_extractor(inputs)  # type: ignore[arg-type]

    def pad(self, speech: Sequence[np.ndarray]) -> AudioBatch:
        return self.feature_extractor.pad(speech)

    def decode(self, ids: Sequence[int] | np.ndarray, skip_special_tokens: bool = False) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=skip_special_tokens)

    def batch_decode(
        self, sequences: Sequence[Sequence[int]] | np.ndarray, skip_special_tokens: bool = False
    ) -> list[str]:
        return self.tokenizer.batch_decode(sequences, skip_special_tokens=skip_special_tokens)
