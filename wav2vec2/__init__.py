"""wav2vec 2.0 in Keras 3 / TensorFlow: the model, its processor and the CTC loss.

    from wav2vec2 import Wav2Vec2ForCTC, Wav2Vec2Processor, CTCLoss
    model = Wav2Vec2ForCTC.from_pretrained("facebook/wav2vec2-base-960h")
    logits = model(audio)                          # audio: [batch, samples] or [samples], 16 kHz
    model.compile(optimizer); model.fit(dataset)   # ({"audio", "audio_length"}, labels padded with -100)

The names below load their module on first use (PEP 562), so `import wav2vec2.config` or
`from wav2vec2 import SAMPLE_RATE_HZ` does not import TensorFlow: the gateway's settings and the CLI's help
stay fast. `from wav2vec2 import X` works as with eager imports.
"""

from __future__ import annotations

import sys

from wav2vec2.lazy_exports import lazy_exports

# Public name → the module that defines it.
_EXPORTS = {
    "SAMPLE_RATE_HZ": "wav2vec2.config",
    "Wav2Vec2Config": "wav2vec2.config",
    "collapse_ctc_ids": "wav2vec2.ctc_decode",
    "ctc_greedy_ids": "wav2vec2.ctc_decode",
    "CTCLoss": "wav2vec2.ctc_loss",
    "CheckpointMismatchError": "wav2vec2.errors",
    "CheckpointNotFoundError": "wav2vec2.errors",
    "VocabularyError": "wav2vec2.errors",
    "Wav2Vec2Error": "wav2vec2.errors",
    "AudioBatch": "wav2vec2.feature_extractor",
    "Wav2Vec2FeatureExtractor": "wav2vec2.feature_extractor",
    "frame_lengths": "wav2vec2.lengths",
    "Wav2Vec2ForCTC": "wav2vec2.model",
    "Wav2Vec2Model": "wav2vec2.model",
    "sample_negative_indices": "wav2vec2.negatives",
    "normalize_audio": "wav2vec2.normalize",
    "Wav2Vec2ForPreTraining": "wav2vec2.pretraining",
    "PretrainingLoss": "wav2vec2.pretraining_loss",
    "GumbelVectorQuantizer": "wav2vec2.quantizer",
    "compute_span_mask": "wav2vec2.spec_augment",
    "Wav2Vec2Processor": "wav2vec2.processor",
    "Wav2Vec2CTCTokenizer": "wav2vec2.tokenizer",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

# `keras.models.load_model("m.keras")` finds our classes by the names their modules register when they run; with
# Keras already loaded (TensorFlow with it), run them now, so that `import wav2vec2` is enough to load a .keras
# file. Without Keras loaded, this import stays light and `from wav2vec2 import Wav2Vec2ForCTC` registers them.
if "keras" in sys.modules:
    import wav2vec2.model
    import wav2vec2.pretraining  # noqa: F401
