"""wav2vec 2.0 in Keras 3 / TensorFlow: the model, its processor and the CTC loss.

    from wav2vec2 import Wav2Vec2ForCTC, Wav2Vec2Processor, CTCLoss
    model = Wav2Vec2ForCTC.from_pretrained("facebook/wav2vec2-base-960h")
    logits = model(audio)
"""

from wav2vec2.config import Wav2Vec2Config
from wav2vec2.ctc_decode import collapse_ctc_ids, ctc_greedy_ids
from wav2vec2.ctc_loss import CTCLoss
from wav2vec2.errors import AudioError, CheckpointMismatchError, CheckpointNotFoundError, Wav2Vec2Error
from wav2vec2.feature_extractor import AudioBatch, Wav2Vec2FeatureExtractor
from wav2vec2.lengths import frame_lengths
from wav2vec2.model import Wav2Vec2ForCTC, Wav2Vec2Model
from wav2vec2.negatives import sample_negative_indices
from wav2vec2.normalize import normalize_audio
from wav2vec2.pretraining import Wav2Vec2ForPreTraining
from wav2vec2.pretraining_loss import PretrainingLoss
from wav2vec2.processor import Wav2Vec2Processor
from wav2vec2.quantizer import GumbelVectorQuantizer
from wav2vec2.spec_augment import compute_span_mask
from wav2vec2.tokenizer import Wav2Vec2CTCTokenizer

__all__ = [
    "AudioBatch",
    "AudioError",
    "CTCLoss",
    "CheckpointMismatchError",
    "CheckpointNotFoundError",
    "GumbelVectorQuantizer",
    "PretrainingLoss",
    "Wav2Vec2CTCTokenizer",
    "Wav2Vec2Config",
    "Wav2Vec2Error",
    "Wav2Vec2FeatureExtractor",
    "Wav2Vec2ForCTC",
    "Wav2Vec2ForPreTraining",
    "Wav2Vec2Model",
    "Wav2Vec2Processor",
    "collapse_ctc_ids",
    "compute_span_mask",
    "ctc_greedy_ids",
    "frame_lengths",
    "normalize_audio",
    "sample_negative_indices",
]
