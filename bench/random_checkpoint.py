"""The benches' reference model: seeded random wav2vec 2.0 base weights, saved where `transformers` loads them too."""

from __future__ import annotations

from pathlib import Path

import keras

from wav2vec2 import Wav2Vec2Config, Wav2Vec2ForCTC, Wav2Vec2Processor


def random_base_checkpoint(workdir: Path) -> tuple[Wav2Vec2ForCTC, Wav2Vec2Processor, Path]:
    """Returns `(model, processor, checkpoint_dir)`: both frameworks then run the same weights."""
    keras.utils.set_random_seed(0)
    model = Wav2Vec2ForCTC(Wav2Vec2Config()).build_weights()
    processor = Wav2Vec2Processor()
    checkpoint = workdir / "checkpoint"
    model.save_pretrained(checkpoint)
    processor.save_pretrained(checkpoint)
    return model, processor, checkpoint
