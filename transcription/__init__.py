"""Timed transcripts: words with times and confidences, grouped into segments, written in the output formats.

The one path from a model's output to what a user reads (docs/architecture.md):
audio -> (chunks) -> logits or greedy tokens -> Decoder (greedy | lexicon+LM) -> words -> segments -> formatter.
Depends on `ctc_decoding/` and `wav2vec2/` only; `service/`, `cli/` and `training/` build on it.
"""

from transcription.types import Segment, Transcript, Word

__all__ = ["Segment", "Transcript", "Word"]
