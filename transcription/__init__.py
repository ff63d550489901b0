"""Timed transcripts: words with times and confidences, grouped into segments, written in the output formats.

The one path from a model's output to what a user reads (docs/architecture.md, docs/transcripts.md):
audio -> (chunks) -> logits -> Decoder (greedy | lexicon+LM) -> words -> segments -> formatter.
Depends on `ctc_decoding/` and `wav2vec2/` only; `service/`, `cli/` and `training/` build on it.
"""

from transcription.chunking import ChunkPlan, FrameGeometry, Window
from transcription.decoders import DECODER_NAMES, GREEDY, LANGUAGE_MODEL, Decoder, GreedyDecoder, LanguageModelDecoder
from transcription.errors import TranscriptionError, UnknownDecoderError
from transcription.pipeline import ChunkedTranscriber
from transcription.segments import SegmentRules, group_words
from transcription.types import Segment, Transcript, Word

__all__ = [
    "DECODER_NAMES",
    "GREEDY",
    "LANGUAGE_MODEL",
    "ChunkPlan",
    "ChunkedTranscriber",
    "Decoder",
    "FrameGeometry",
    "GreedyDecoder",
    "LanguageModelDecoder",
    "Segment",
    "SegmentRules",
    "Transcript",
    "TranscriptionError",
    "UnknownDecoderError",
    "Window",
    "Word",
    "group_words",
]
