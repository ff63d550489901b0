"""Timed transcripts: words with times and confidences, grouped into segments, written in the output formats.

The one path from a model's output to what a user reads (docs/architecture.md, docs/transcripts.md):
audio -> (chunks) -> logits -> Decoder (greedy | lexicon+LM) -> words -> segments -> formatter.
Depends on `ctc_decoding/` and `wav2vec2/` only; `service/`, `cli/` and `training/` build on it.

The names below load on first use (PEP 562), so `import transcription.names` (what `asr --help` needs) does not
load NumPy and the decoders.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transcription.chunking import ChunkPlan, FrameGeometry, Window
    from transcription.decoders import Decoder, GreedyDecoder, LanguageModelDecoder
    from transcription.errors import TranscriptionError, UnknownDecoderError
    from transcription.names import DECODER_NAMES, GREEDY, LANGUAGE_MODEL
    from transcription.pipeline import ChunkedTranscriber
    from transcription.segments import SegmentRules, group_words
    from transcription.types import Segment, Transcript, Word

# Each public name and the module that defines it.
_HOMES = {
    "DECODER_NAMES": "names",
    "GREEDY": "names",
    "LANGUAGE_MODEL": "names",
    "ChunkPlan": "chunking",
    "ChunkedTranscriber": "pipeline",
    "Decoder": "decoders",
    "FrameGeometry": "chunking",
    "GreedyDecoder": "decoders",
    "LanguageModelDecoder": "decoders",
    "Segment": "types",
    "SegmentRules": "segments",
    "Transcript": "types",
    "TranscriptionError": "errors",
    "UnknownDecoderError": "errors",
    "Window": "chunking",
    "Word": "types",
    "group_words": "segments",
}
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


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'transcription' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"transcription.{_HOMES[name]}"), name)
    globals()[name] = value
    return value
